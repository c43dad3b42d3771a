//! Every payload parser on arbitrary bytes, then the dispatch and the details recording with
//! its JSON form. The first byte picks the context: bit 0 TCP or UDP, the rest a port from the
//! list (the weak checks run only on their ports). Nothing may panic, and escaped strings must
//! hold no control character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdsflows::classify::details::{FlowDetails, RecordOptions};
use rdsflows::classify::payload::{inspect, Context};
use rdsflows::classify::probe::{
    ber, dcerpc, dns, escape, ftp, http, kerberos, ldap, netbios, radius, rdp, rdpeudp, smb, tls,
};

const PORTS: [u16; 24] = [
    3389, 443, 135, 49672, 88, 389, 53, 137, 138, 139, 445, 1812, 1813, 21, 80, 5985, 3391, 13389,
    502, 102, 1645, 5353, 1032, 42356,
];

fn every_parser(data: &[u8]) {
    let _ = rdp::parse_connection_request(data)
        .map(|cr| (cr.cookie().map(<[u8]>::len), cr.has_rdp_fields()));
    let _ = rdp::parse_connection_confirm(data).map(|cc| cc.selected_protocol());
    let _ = rdp::decode_msts(data);
    if let Some(syn) = rdpeudp::parse_syn(data) {
        if let Some(ack) = rdpeudp::parse_syn_ack(data) {
            let _ = rdpeudp::is_syn_ack_for(&syn, &ack);
        }
    }
    let _ = rdpeudp::parse_syn_ack(data);
    let _ = tls::parse_client_hello(data).map(|h| h.offered_version().name());
    let _ = tls::parse_server_hello(data);
    let _ = tls::parse_record_header(data);
    if let Some(req) = http::parse_request(data) {
        let _ = (req.purpose(), req.path());
    }
    let _ = http::parse_response(data).map(|r| r.is_crl());
    let _ = dcerpc::probe_dcerpc(data);
    let _ = dcerpc::parse_bind(data).map(|b| b.interface());
    let _ = dcerpc::parse_bind_ack(data).map(|a| a.port());
    let _ = dcerpc::parse_ept_map_response(data);
    let _ = dcerpc::parse_tower(data);
    let _ = kerberos::parse_kerberos(data);
    let _ = kerberos::parse_kerberos_tcp(data);
    let _ = ldap::parse_ldap(data).map(|m| m.is_start_tls());
    for message in [dns::parse_dns(data), dns::parse_dns_tcp(data)]
        .into_iter()
        .flatten()
    {
        if let Some(q) = message.question {
            let mut buf = [0u8; dns::MAX_NAME_LEN + 1];
            let _ = q.name.write_dotted(&mut buf);
            let _ = q.name.labels().count();
        }
    }
    let _ = netbios::parse_nbns(data);
    let _ = netbios::parse_nbdgm(data);
    let _ = netbios::parse_nbss(data);
    let _ = netbios::decode_first_level(data);
    let _ = radius::parse_radius(data);
    let _ = smb::parse_smb(data);
    if let Some(reply) = ftp::parse_reply(data) {
        let _ = ftp::pasv_address(&reply);
    }
    let _ = ftp::parse_command(data);
    if let Some((tlv, _)) = ber::read_tlv_lax(data) {
        let _ = tlv.children().count();
    }
    let escaped = escape::escape_bytes(data, 64);
    assert!(escaped.chars().count() <= 65);
    assert!(!escaped.chars().any(char::is_control));
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    every_parser(payload);
    let ctx = Context {
        tcp: selector & 1 == 0,
        server_port: PORTS[usize::from(selector >> 1) % PORTS.len()],
        client_port: 50_000,
    };
    let mut details = FlowDetails::default();
    for (i, redact) in [false, true].into_iter().enumerate() {
        if let Some(finding) = inspect(ctx, payload) {
            let _ = finding.app();
            details.record(&finding, i == 0, RecordOptions { redact });
        }
    }
    let json = serde_json::to_string(&details).expect("details serialise");
    assert!(!json.chars().any(|c| c.is_control() && c != '\n'));
});
