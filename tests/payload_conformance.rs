//! Issue 4's conformance, at the analyser level: the public captures in ../shared/captures/public
//! run through the whole pipeline (capture reader, decoder, flow table, classifier with its
//! default inspection bound), and the flow lines must show what MANIFEST.tsv and the capture
//! bytes say: every RDP connection with its cookie (or none) and its selected protocol or
//! failure code; RDP on the ports the map does not list (SOCKS5 on tcp/42356, a scanner's CR on
//! tcp/502 that the honeypot does not answer as RDP); S7comm's TPKT on tcp/102 not taken for
//! RDP; the MS-RDPEUDP handshakes, answered and not; the RD Gateway's 443 flows by server name;
//! and the dynamic-port RPC flows of the endpoint-mapper captures labelled with their interface.
//! No other capture may show RDP or RDP-UDP (false positives).
//!
//! Skips (and says so) when the folder is absent.

use std::path::{Path, PathBuf};

use rdsflows::capture::file::open_inputs;
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::flow::FlowTableConfig;
use rdsflows::report::progress::Progress;
use serde_json::Value;

/// ../shared/captures/public beside the checkout, or the folder `RDSFLOWS_PUBLIC_CAPTURES`
/// names.
fn public_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RDSFLOWS_PUBLIC_CAPTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public"),
        PathBuf::from,
    );
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

/// The flow lines of one capture, in order of their first packet.
fn flows(dir: &Path, file: &str) -> Vec<Value> {
    let path = dir.join(file);
    let (mut source, errors) = open_inputs(std::slice::from_ref(&path));
    assert!(errors.is_empty(), "{file}: {errors:?}");
    let mut classifier = Classifier::new(SignatureSet::builtin());
    let mut lines = Vec::new();
    rdsflows::pipeline::run(
        &mut source,
        &[file.to_string()],
        &mut classifier,
        FlowTableConfig::default(),
        Some(&mut lines),
        &Progress::new(None, true),
        1,
    )
    .unwrap();
    let mut out: Vec<Value> = String::from_utf8(lines)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    out.sort_by(|a, b| {
        a["ts"]
            .as_f64()
            .unwrap()
            .total_cmp(&b["ts"].as_f64().unwrap())
    });
    out
}

fn manifest(dir: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(dir.join("MANIFEST.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0].to_string(), cols[8].to_string())
        })
        .collect()
}

/// One expected RDP connection: server port, cookie (`None`: no cookie), and the server's
/// answer: `Ok(selected protocol)` or `Err(failure code)`.
type Rdp = (
    u16,
    Option<&'static str>,
    Result<&'static str, &'static str>,
);

/// The RDP connections of each RDP capture, in order, from the X.224 bytes (MS-RDPBCGR
/// 2.2.1.1/2.2.1.2) as the manifest's notes describe them.
fn rdp_expectations() -> Vec<(&'static str, Vec<Rdp>)> {
    const HYBRID: Result<&str, &str> = Ok("PROTOCOL_HYBRID");
    const HYBRID_EX: Result<&str, &str> = Ok("PROTOCOL_HYBRID_EX");
    const STANDARD: Result<&str, &str> = Ok("PROTOCOL_RDP");
    vec![
        (
            "zeek/rdp/rdp-proprietary-encryption.pcap",
            vec![
                (3389, Some("FTBCO\\\\A70"), Err("SSL_NOT_ALLOWED_BY_SERVER")),
                (3389, Some("FTBCO\\\\A70"), STANDARD),
            ],
        ),
        (
            "zeek/rdp/rdp-to-ssl.pcap",
            vec![
                (3389, Some("AWAKECODI"), HYBRID),
                (3389, Some("AWAKECODI"), HYBRID),
            ],
        ),
        (
            "zeek/rdp/rdp-x509.pcap",
            vec![(3389, Some("JOHN-PC"), STANDARD)],
        ),
        (
            "zeek/rdp/rdp-no-cookie-mstshash.pcap",
            vec![(3389, None, HYBRID_EX)],
        ),
        (
            "zeek/rdp/rdp-unknown-keyboard.pcap",
            vec![(3389, Some("JOHN-PC"), STANDARD)],
        ),
        (
            "suricata-verify/rdp-protocol/RDP-003.pcap",
            vec![(3389, Some("A70067"), STANDARD)],
        ),
        ("ndpi/rdp.pcap", vec![(3389, None, HYBRID_EX)]),
        ("ndpi/rdp3.pcap", vec![(3389, Some("Administr"), STANDARD)]),
        (
            "ndpi/rdp_over_tls.pcap",
            vec![(3389, Some("WDeployAd"), HYBRID)],
        ),
        // XP SP2 answers an empty token line with a bare confirm, five times.
        (
            "malcolm-test-artifacts/esteemedaudit-failed-XPSP2.pcap",
            vec![(3389, None, STANDARD); 5],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-nla-kerberos-auth1.pcapng",
            vec![(3389, Some("Administr"), HYBRID_EX)],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-nla-ntlm-rejected1.pcapng",
            vec![
                (3389, Some("IT-HELP\\\\A"), HYBRID_EX),
                (3389, Some("IT-HELP\\\\A"), Err("HYBRID_REQUIRED_BY_SERVER")),
            ],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-nla-smartcard-auth1.pcapng",
            vec![(3389, Some("@@BooZeoy"), HYBRID_EX)],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-no-nla-rejected1.pcapng",
            vec![(3389, Some("Administr"), Err("HYBRID_REQUIRED_BY_SERVER"))],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-no-tls-accepted1.pcapng",
            vec![
                (3389, Some("Administr"), Err("SSL_NOT_ALLOWED_BY_SERVER")),
                (3389, Some("Administr"), STANDARD),
            ],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-restricted-admin-rejected1.pcapng",
            vec![(3389, Some("Administr"), HYBRID_EX)],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-no-nla-accepted1.pcapng",
            vec![(3389, Some("Administr"), Ok("PROTOCOL_SSL"))],
        ),
        // Found by payload on ports the map does not list.
        (
            "arkime/socks5-rdp.pcap",
            vec![(42356, Some("XXX"), STANDARD)],
        ),
    ]
}

fn found_rdp(flows: &[Value]) -> Vec<&Value> {
    flows.iter().filter(|f| f["app"] == "rdp").collect()
}

#[test]
fn every_rdp_connection_of_the_manifest_is_found_with_its_cookie_and_protocol() {
    let Some(dir) = public_dir() else {
        println!("skipped: ../shared/captures/public not found");
        return;
    };
    let expectations = rdp_expectations();
    let mut failures = Vec::new();
    let mut connections = 0;
    for (file, protocols) in manifest(&dir) {
        let lines = flows(&dir, &file);
        let rdp = found_rdp(&lines);
        let Some((_, want)) = expectations.iter().find(|(f, _)| *f == file) else {
            // The scanner's CR on tcp/502 is checked below; anything else is a false positive.
            if file != "zeek/modbus/modbus-and-non-modbus-p502.pcap" && !rdp.is_empty() {
                failures.push(format!("{file} ({protocols}): RDP found: {rdp:?}"));
            }
            continue;
        };
        if rdp.len() != want.len() {
            failures.push(format!(
                "{file}: {} RDP flows, expected {}",
                rdp.len(),
                want.len()
            ));
            continue;
        }
        for (f, (port, cookie, answer)) in rdp.iter().zip(want) {
            connections += 1;
            let got_cookie = f["rdp"]["cookie"].as_str();
            let cookie_ok = match cookie {
                None => got_cookie.is_none(),
                Some(c) => got_cookie.is_some_and(|g| g.trim_end() == *c),
            };
            let got_answer = match (
                f["rdp"]["selected_protocol"].as_str(),
                f["rdp"]["failure_code"].as_str(),
            ) {
                (Some(s), None) => Ok(s),
                (None, Some(e)) => Err(e),
                _ => Err("no confirm"),
            };
            let expected_payload = if *port == 3389 {
                "confirmed"
            } else {
                "payload_only"
            };
            if f["id.resp_p"] != *port
                || !cookie_ok
                || got_answer != *answer
                || f["service"] != "rdp"
                || f["payload"] != expected_payload
            {
                failures.push(format!(
                    "{file}: expected port {port}, cookie {cookie:?}, {answer:?}, payload {expected_payload}; got {f}"
                ));
            }
        }
    }
    println!("RDP connections found with cookie and answer: {connections}");
    assert_eq!(connections, 26, "every connection of the table was checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rdp_on_unlisted_ports_is_found_and_s7comm_is_not_rdp() {
    let Some(dir) = public_dir() else {
        println!("skipped: ../shared/captures/public not found");
        return;
    };
    // SOCKS5: two exchanges before the CR; found within the default inspection bound.
    let socks = flows(&dir, "arkime/socks5-rdp.pcap");
    let rdp = found_rdp(&socks);
    assert_eq!(rdp.len(), 1);
    assert_eq!(
        (&rdp[0]["id.resp_p"], &rdp[0]["service"], &rdp[0]["payload"]),
        (
            &Value::from(42356),
            &Value::from("rdp"),
            &Value::from("payload_only")
        )
    );
    // The scanner's CR to the Modbus honeypot: RDP spoken, the answer is not a Confirm, so the
    // honeypot is no RDP server: no service, and the request is still reported.
    let p502 = flows(&dir, "zeek/modbus/modbus-and-non-modbus-p502.pcap");
    let rdp = found_rdp(&p502);
    assert_eq!(rdp.len(), 1, "{rdp:?}");
    assert_eq!(rdp[0]["id.resp_p"], 502);
    assert_eq!(rdp[0]["rdp"]["cookie"], "admin");
    assert_eq!(rdp[0]["rdp"]["requested_protocols"][0], "PROTOCOL_SSL");
    assert_eq!(rdp[0]["rdp"]["answer"], "not_rdp");
    assert!(rdp[0]["service"].is_null());
    // S7comm: TPKT and an X.224 CR with TSAP parameters on tcp/102: not RDP.
    let s7 = flows(&dir, "ndpi/s7comm.pcap");
    assert!(found_rdp(&s7).is_empty());
    assert!(s7.iter().all(|f| f["service"].is_null()), "{s7:?}");
    // The fuzzed CR of rdp-invalid-length does not parse: the port alone says RDP.
    let fuzzed = flows(&dir, "zeek/rdp/rdp-invalid-length.pcap");
    assert_eq!(fuzzed.len(), 1);
    assert_eq!(
        (&fuzzed[0]["service"], &fuzzed[0]["payload"]),
        (&Value::from("rdp"), &Value::from("port_only"))
    );
}

#[test]
fn rdpeudp_handshakes_answered_and_not() {
    let Some(dir) = public_dir() else {
        println!("skipped: ../shared/captures/public not found");
        return;
    };
    let mut failures = Vec::new();
    let mut handshakes = 0;
    for (file, _) in manifest(&dir) {
        let lines = flows(&dir, &file);
        let udp: Vec<&Value> = lines.iter().filter(|f| f["app"] == "rdpeudp").collect();
        let ok = match file.as_str() {
            // "SYN without completed handshake": three SYNs, no SYN+ACK.
            "zeek/rdp/rdpeudp-handshake-fail.pcap" => {
                udp.len() == 1
                    && udp[0]["rdpeudp"]["syns"] == 3
                    && udp[0]["rdpeudp"]["answered"] == false
                    && udp[0]["rdpeudp"]["diagnosis"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("UDP attempted, never answered"))
                    && udp[0]["rdpeudp"]["correlation_id"].is_string()
            }
            // "SYN/SYN+ACK/ACK success": the server chose version 2.
            "zeek/rdp/rdpeudp-handshake-success.pcap" => {
                udp.len() == 1
                    && udp[0]["rdpeudp"]["answered"] == true
                    && udp[0]["rdpeudp"]["version"] == "RDPUDP_PROTOCOL_VERSION_2"
                    && udp[0]["rdpeudp"]["diagnosis"].is_null()
            }
            // One full handshake (version 3, MS-RDPEUDP2); one conversation starts at the
            // SYN+ACK, one midstream (not RDP-UDP to the checks, RDP-UDP by port).
            "ndpi/rdp2.pcap" => {
                let full: Vec<&&Value> = udp.iter().filter(|f| f["rdpeudp"]["syns"] == 1).collect();
                full.len() == 1
                    && full[0]["rdpeudp"]["answered"] == true
                    && full[0]["rdpeudp"]["version"] == "RDPUDP_PROTOCOL_VERSION_3"
                    && udp.len() == 2
                    && lines.iter().filter(|f| f["service"] == "rdp-udp").count() == 3
            }
            _ => udp.is_empty(),
        };
        handshakes += udp.iter().filter(|f| f["rdpeudp"]["syns"] != 0).count();
        if !ok {
            failures.push(format!("{file}: {udp:?}"));
        }
    }
    println!("RDPEUDP handshakes found: {handshakes}");
    assert_eq!(handshakes, 3);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rd_gateway_flows_are_found_by_server_name() {
    let Some(dir) = public_dir() else {
        println!("skipped: ../shared/captures/public not found");
        return;
    };
    let mut total = 0;
    for (file, count) in [
        (
            "awakecoding-wireshark-rdp/rdp-rdg-same-creds-kerberos-password-success1.pcapng",
            2,
        ),
        (
            "awakecoding-wireshark-rdp/rdp-rdg-diff-creds-kerberos-password.pcapng",
            1,
        ),
        (
            "awakecoding-wireshark-rdp/rdp-rdg-no-kdc-proxy-ntlm-downgrade-failure.pcapng",
            2,
        ),
    ] {
        let lines = flows(&dir, file);
        let gateway: Vec<&Value> = lines.iter().filter(|f| f["id.resp_p"] == 443).collect();
        assert_eq!(gateway.len(), count, "{file}");
        for f in gateway {
            total += 1;
            // The HTTP transport (RDG_OUT_DATA, the WebSocket upgrade) is inside TLS here: the
            // server name and the TLS transport are what the wire shows.
            assert_eq!(f["service"], "https", "{file}: {f}");
            assert_eq!(f["app"], "tls", "{file}: {f}");
            assert_eq!(f["payload"], "confirmed", "{file}: {f}");
            assert_eq!(
                f["tls"]["server_name"], "it-help-gw.ad.it-help.ninja",
                "{file}"
            );
            assert_eq!(f["tls"]["dtls"], false);
        }
        // The gateway's Kerberos on tcp/88, with its service principals.
        if file.contains("kerberos") {
            assert!(lines
                .iter()
                .any(|f| f["app"] == "kerberos" && f["kerberos"]["sname"].is_string()));
        }
    }
    println!("RD Gateway 443 flows found by server name: {total}");
}

#[test]
fn dynamic_rpc_flows_of_the_endpoint_mapper_captures_carry_their_interface() {
    let Some(dir) = public_dir() else {
        println!("skipped: ../shared/captures/public not found");
        return;
    };
    // For every rpc-dynamic(-legacy) flow, in order: port, interface name or UUID, and whether
    // an ept_map tower labelled it.
    type Labelled = (u16, &'static str, bool);
    let cases: [(&str, Vec<Labelled>); 5] = [
        (
            "ms-prot-od-netcaps/MS-AUTHSOD_Example3-2_WIN2016_X64_Win2016_X64_Domian.cap",
            vec![(49670, "netlogon", true)],
        ),
        (
            "ms-prot-od-netcaps/MS-ADOD_Example1_3_WS2019v2004_X64_Win10v2004_X64_Domain_JoiningADomainByCreatingAnAccountViaLDAP.pcapng",
            vec![
                (49668, "drsuapi", true),
                (49668, "drsuapi", true),
                (49668, "netlogon", true),
                (49668, "drsuapi", true),
            ],
        ),
        // Pre-2008 ports: NSPI on 4997 and EMSMDB on 1032, each from an ept_map answer.
        (
            "zeek/dce-rpc/mapi.pcap",
            vec![
                (4997, "f5cc5a18-4264-101a-8c59-08002b2f8426", true),
                (4997, "f5cc5a18-4264-101a-8c59-08002b2f8426", true),
                (1032, "a4f1db00-ca47-1067-b31f-00dd010662da", true),
            ],
        ),
        // DCOM: the port comes from the OXID resolver, not ept_map; the bind names it.
        (
            "suricata-verify/dcerpc-ctxids/input.pcap",
            vec![(49724, "IRemUnknown2", false), (49724, "IRemUnknown2", false)],
        ),
        // No endpoint mapper in the capture: the bind alone.
        ("ndpi/kerberos.pcap", vec![(49155, "drsuapi", false), (49155, "drsuapi", false)]),
    ];
    let mut labelled = 0;
    for (file, want) in cases {
        let lines = flows(&dir, file);
        let rpc: Vec<&Value> = lines
            .iter()
            .filter(|f| {
                f["service"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("rpc-dynamic"))
            })
            .collect();
        assert_eq!(rpc.len(), want.len(), "{file}: {rpc:?}");
        for (f, (port, interface, by_tower)) in rpc.iter().zip(&want) {
            let label = |v: &Value| {
                v["name"]
                    .as_str()
                    .or_else(|| v["uuid"].as_str())
                    .map(str::to_string)
            };
            let bound = label(&f["dcerpc"]["interfaces"][0]);
            let mapped = label(&f["dcerpc"]["epm_mapped"]);
            assert_eq!(f["id.resp_p"], *port, "{file}: {f}");
            assert_eq!(bound.as_deref(), Some(*interface), "{file}: {f}");
            if *by_tower {
                assert_eq!(mapped.as_deref(), Some(*interface), "{file}: {f}");
            }
            labelled += 1;
        }
    }
    println!("dynamic-port RPC flows labelled with their interface: {labelled}");
}
