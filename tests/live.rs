//! Live capture on the loopback interface (`cargo test --features live`, as root): real TCP and
//! UDP traffic to listeners on 127.0.0.1 on RDS ports, captured by the real binary, stopped with
//! SIGINT or SIGTERM, by `-c` or `--duration`. Every wait is bounded, so a test fails rather than
//! hangs. Without root each test prints "skipped: …" and returns.
//!
//! Traffic stays on 127.0.0.1: the capture filters on it, the servers bind to it and the clients
//! send to it, nowhere else.
#![cfg(feature = "live")]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rdsflows");
const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// The longest any single step may take before the test gives up (each wait is bounded by it).
const STEP: Duration = Duration::from_secs(15);
/// Client socket timeouts.
const IO_TIMEOUT: Duration = Duration::from_secs(3);

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

macro_rules! require_root {
    () => {
        if !is_root() {
            eprintln!("skipped: live capture on lo needs root (CI runs these tests as root)");
            return;
        }
    };
}

/// A fresh directory for one test's files.
fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("live-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary capturing on lo, its stderr read line by line in a thread, its stdout collected.
struct Running {
    child: Child,
    stderr: Receiver<String>,
    stderr_seen: Vec<String>,
    stdout: JoinHandle<String>,
}

impl Running {
    /// Starts `rdsflows capture -i lo ARGS` and waits for its "listening on lo" line.
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["capture", "-i", "lo"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stdout = child.stdout.take().unwrap();
        let stdout = thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let mut running = Self {
            child,
            stderr: rx,
            stderr_seen: Vec::new(),
            stdout,
        };
        running.wait_for_line("listening on lo");
        running
    }

    fn wait_for_line(&mut self, needle: &str) {
        let deadline = Instant::now() + STEP;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.stderr_seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "no '{needle}' on stderr within {STEP:?}; stderr so far:\n{}",
            self.stderr_seen.join("\n")
        );
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits (bounded) for the exit; returns the status, stdout and the whole stderr.
    fn wait(mut self) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + STEP;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "rdsflows did not exit within {STEP:?}; stderr:\n{}",
                    self.stderr_seen.join("\n")
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.join().unwrap();
        self.stderr_seen.extend(self.stderr.try_iter());
        (status, stdout, self.stderr_seen.join("\n"))
    }
}

fn bind_tcp(port: u16) -> TcpListener {
    TcpListener::bind((LOCALHOST, port))
        .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{port}/tcp: {e}"))
}

fn bind_udp(port: u16) -> UdpSocket {
    UdpSocket::bind((LOCALHOST, port))
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:{port}/udp: {e}"))
}

/// Accepts `connections` connections, echoes what each sends, then closes it.
fn tcp_echo(listener: TcpListener, connections: usize) -> JoinHandle<()> {
    listener.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        let deadline = Instant::now() + STEP;
        let mut served = 0;
        while served < connections && Instant::now() < deadline {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                    let mut buf = [0u8; 256];
                    if let Ok(n) = stream.read(&mut buf) {
                        let _ = stream.write_all(&buf[..n]);
                    }
                    served += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    })
}

/// Echoes `datagrams` datagrams back to their senders.
fn udp_echo(socket: UdpSocket, datagrams: usize) -> JoinHandle<()> {
    socket.set_read_timeout(Some(STEP)).unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 1500];
        for _ in 0..datagrams {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                return;
            };
            let _ = socket.send_to(&buf[..n], from);
        }
    })
}

/// A TCP exchange: connect, send, read the echo, close. Returns the client port.
fn tcp_exchange(port: u16, payload: &[u8]) -> u16 {
    let addr = SocketAddr::from((LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.write_all(payload).unwrap();
    let mut echo = vec![0u8; payload.len()];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, payload);
    // Read the server's FIN before closing, so both closes are orderly (conn_state SF).
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    stream.local_addr().unwrap().port()
}

/// A connection to a port with no listener: refused by RST. (std cannot name the client port
/// of a failed connect; the flow is found by its server port.)
fn tcp_refused(port: u16) {
    match TcpStream::connect_timeout(&SocketAddr::from((LOCALHOST, port)), IO_TIMEOUT) {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
        Err(e) => panic!("127.0.0.1:{port}/tcp: expected a refusal, got {e}"),
        Ok(_) => panic!("127.0.0.1:{port}/tcp has a listener here; the test needs it closed"),
    }
}

/// A UDP exchange: send, wait for the echo. Returns the client port.
fn udp_exchange(port: u16) -> u16 {
    let socket = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    socket.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    socket
        .send_to(b"rdsflows live test", (LOCALHOST, port))
        .unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"rdsflows live test");
    socket.local_addr().unwrap().port()
}

/// One UDP datagram that nobody answers. Returns the client port.
fn udp_send(port: u16) -> u16 {
    let socket = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    socket
        .send_to(b"rdsflows live test", (LOCALHOST, port))
        .unwrap();
    socket.local_addr().unwrap().port()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn read_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "last line incomplete"
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

/// The flow line with this transport and server port (and client port, when known).
fn flow<'a>(lines: &'a [Value], proto: &str, server_port: u16, client_port: u16) -> &'a Value {
    lines
        .iter()
        .find(|f| {
            f["proto"] == proto
                && f["id.resp_p"] == server_port
                && f["id.resp_h"] == "127.0.0.1"
                && (client_port == 0 || f["id.orig_p"] == client_port)
        })
        .unwrap_or_else(|| panic!("no {proto}/{server_port} flow from port {client_port}"))
}

fn no_temp_files_left(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            !name.to_string_lossy().contains(".tmp-rdsflows"),
            "{name:?} left behind: an output was not completed"
        );
    }
}

/// What identifies a flow and its result, for comparing two runs.
fn flow_facts(lines: &[Value]) -> BTreeSet<String> {
    lines
        .iter()
        .map(|f| {
            format!(
                "{} {}:{} -> {}:{} {} {} {} pkts {}/{}",
                f["proto"],
                f["id.orig_h"],
                f["id.orig_p"],
                f["id.resp_h"],
                f["id.resp_p"],
                f["service"],
                f["outcome"],
                f["conn_state"],
                f["orig_pkts"],
                f["resp_pkts"]
            )
        })
        .collect()
}

#[test]
fn rds_traffic_on_lo_is_classified_and_sigint_completes_every_output() {
    require_root!();
    let dir = out_dir("sigint");
    let (json, flows, pcap) = (dir.join("s.json"), dir.join("f.jsonl"), dir.join("w.pcap"));

    // Listeners first, so the capture sees only complete exchanges.
    let servers = vec![
        tcp_echo(bind_tcp(3389), 2),
        tcp_echo(bind_tcp(5504), 1),
        tcp_echo(bind_tcp(88), 1),
        udp_echo(bind_udp(3389), 1),
        udp_echo(bind_udp(3391), 1),
        udp_echo(bind_udp(1812), 1),
        udp_echo(bind_udp(88), 1),
    ];
    // Bound but silent: the datagram is received and never answered.
    let silent = bind_udp(1813);

    let filter = "host 127.0.0.1 and (tcp port 3389 or tcp port 5504 or tcp port 88 \
                  or tcp port 5985 or udp port 3389 or udp port 3391 or udp port 1812 \
                  or udp port 88 or udp port 1813 or udp port 389 or icmp)";
    let running = Running::start(&[
        "-f",
        filter,
        "--json",
        json.to_str().unwrap(),
        "--flows",
        flows.to_str().unwrap(),
        "-w",
        pcap.to_str().unwrap(),
    ]);

    // An RDP X.224 Connection Request for realism (MS-RDPBCGR 2.2.1.1); the server echoes it.
    let x224 = b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00";
    let rdp_1 = tcp_exchange(3389, x224);
    let rdp_2 = tcp_exchange(3389, x224);
    let rdcb = tcp_exchange(5504, b"broker");
    let krb_tcp = tcp_exchange(88, b"kerberos");
    tcp_refused(5985);
    let rdp_udp = udp_exchange(3389);
    let rdg_udp = udp_exchange(3391);
    let radius = udp_exchange(1812);
    let krb_udp = udp_exchange(88);
    let acct = udp_send(1813);
    // No socket on 389/udp: the kernel answers with ICMP port unreachable.
    let cldap = udp_send(389);
    for server in servers {
        server.join().unwrap();
    }

    running.signal("-INT");
    let (status, stdout, stderr) = running.wait();
    drop(silent);
    assert_eq!(
        status.code(),
        Some(0),
        "exit after SIGINT; stderr:\n{stderr}"
    );

    // The human summary, as analyze prints it, plus the live lines.
    assert!(
        stdout.contains("RDS service"),
        "summary on stdout:\n{stdout}"
    );
    assert!(stdout.contains("Live: lo (ethernet)"), "{stdout}");
    assert!(stdout.contains("stopped by signal"), "{stdout}");
    assert!(stdout.contains("Kernel: "), "drops reported:\n{stdout}");

    // Every output complete.
    no_temp_files_left(&dir);
    let summary = read_json(&json);
    let lines = read_lines(&flows);
    assert_eq!(summary["totals"]["flows"], lines.len() as u64);
    assert_eq!(summary["status"], "complete");
    assert_eq!(summary["live"]["interface"], "lo");
    assert_eq!(summary["live"]["stopped_by"], "signal");
    assert!(summary["live"]["kernel"]["dropped"].is_u64());
    assert_eq!(summary["live"]["written"][0], pcap.to_str().unwrap());

    // Each exchange is one flow with the expected service and outcome.
    let expect = [
        ("tcp", 3389, rdp_1, "rdp", "answered", "SF"),
        ("tcp", 3389, rdp_2, "rdp", "answered", "SF"),
        ("tcp", 5504, rdcb, "rdcb", "answered", "SF"),
        ("tcp", 88, krb_tcp, "kerberos", "answered", "SF"),
        ("tcp", 5985, 0, "winrm", "rejected", "REJ"),
        ("udp", 3389, rdp_udp, "rdp-udp", "answered", "SF"),
        ("udp", 3391, rdg_udp, "rdg-udp", "answered", "SF"),
        ("udp", 1812, radius, "radius", "answered", "SF"),
        ("udp", 88, krb_udp, "kerberos", "answered", "SF"),
        ("udp", 1813, acct, "radius-acct", "unanswered", "S0"),
        ("udp", 389, cldap, "cldap", "rejected", "S0"),
    ];
    for (proto, port, client, service, outcome, state) in expect {
        let f = flow(&lines, proto, port, client);
        let what = format!("{proto}/{port}: {f}");
        assert_eq!(f["service"], service, "{what}");
        assert_eq!(f["outcome"], outcome, "{what}");
        assert_eq!(f["conn_state"], state, "{what}");
        assert_eq!(f["id.orig_h"], "127.0.0.1", "{what}");
    }
    assert!(flow(&lines, "udp", 389, cldap)["icmp_reject"].is_object());

    // The summary's service lines agree.
    let services: BTreeSet<String> = summary["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s["service"].as_str().unwrap(),
                s["transport"].as_str().unwrap()
            )
        })
        .collect();
    for name in [
        "rdp/tcp",
        "rdcb/tcp",
        "kerberos/tcp",
        "winrm/tcp",
        "rdp-udp/udp",
        "rdg-udp/udp",
        "radius/udp",
        "kerberos/udp",
        "radius-acct/udp",
        "cldap/udp",
    ] {
        assert!(services.contains(name), "{name} missing from {services:?}");
    }

    // The -w file holds the same traffic: analyze finds the same flows.
    let again = dir.join("again.jsonl");
    let out = Command::new(BIN)
        .args([
            "analyze",
            pcap.to_str().unwrap(),
            "--flows",
            again.to_str().unwrap(),
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replayed = read_lines(&again);
    assert_eq!(flow_facts(&replayed), flow_facts(&lines));
    // Not only the same flows: the same lines, uid, timestamps and frame numbers included.
    assert_eq!(replayed, lines);
}

#[test]
fn count_stops_the_capture_and_rotated_files_hold_every_packet() {
    require_root!();
    let dir = out_dir("count");
    let json = dir.join("s.json");
    let written = dir.join("w");
    std::fs::create_dir_all(&written).unwrap();
    let pcap = written.join("cap.pcap");
    let silent = bind_udp(137);
    let running = Running::start(&[
        "-f",
        "host 127.0.0.1 and udp port 137",
        "-c",
        "40",
        "-w",
        pcap.to_str().unwrap(),
        "-C",
        "1k",
        "--json",
        json.to_str().unwrap(),
    ]);
    let socket = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    for n in 0..60u8 {
        socket.send_to(&[n; 100], (LOCALHOST, 137)).unwrap();
    }
    let (status, _, stderr) = running.wait();
    drop(silent);
    assert_eq!(status.code(), Some(0), "{stderr}");
    let summary = read_json(&json);
    assert_eq!(summary["totals"]["packets"], 40);
    assert_eq!(summary["live"]["stopped_by"], "count");

    // 40 frames of 142 bytes (+16 per record) do not fit in 1 KiB: several files, each under it.
    let files = summary["live"]["written"].as_array().unwrap();
    assert!(files.len() >= 5, "{files:?}");
    assert_eq!(files[1], format!("{}1", pcap.display()));
    for file in files {
        let size = std::fs::metadata(file.as_str().unwrap()).unwrap().len();
        assert!(size <= 1024, "{file}: {size} bytes");
    }
    // Read back as one directory of rotated captures: every packet is there.
    let again = dir.join("again.json");
    let out = Command::new(BIN)
        .args([
            "analyze",
            written.to_str().unwrap(),
            "--json",
            again.to_str().unwrap(),
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replayed = read_json(&again);
    assert_eq!(replayed["totals"]["packets"], 40);
    assert_eq!(replayed["totals"]["flows"], summary["totals"]["flows"]);
}

#[test]
fn duration_ends_a_capture_with_no_traffic_and_sigterm_stops_cleanly() {
    require_root!();
    let dir = out_dir("idle");
    let json = dir.join("s.json");
    // Nothing matches this filter: the capture must still notice the time and the signal.
    let filter = "host 127.0.0.1 and udp port 9";
    let started = Instant::now();
    let running = Running::start(&[
        "-f",
        filter,
        "--duration",
        "1s",
        "--json",
        json.to_str().unwrap(),
    ]);
    let (status, stdout, stderr) = running.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(read_json(&json)["live"]["stopped_by"], "duration");
    assert!(stdout.contains("no packets"), "{stdout}");

    let running = Running::start(&["-f", filter, "--json", json.to_str().unwrap()]);
    running.signal("-TERM");
    let (status, _, stderr) = running.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(read_json(&json)["live"]["stopped_by"], "signal");
    no_temp_files_left(&dir);
}

#[test]
fn flows_ending_on_a_quiet_link_are_written_while_the_capture_runs() {
    require_root!();
    let dir = out_dir("quiet");
    let flows = dir.join("f.jsonl");
    let running = Running::start(&[
        "-f",
        "host 127.0.0.1 and udp port 40009",
        "--udp-timeout",
        "1s",
        "--flows",
        flows.to_str().unwrap(),
    ]);
    let client = udp_send(40009);
    // No packet follows: the flow can only end because the capture clock moves on by itself.
    let deadline = Instant::now() + STEP;
    let line = loop {
        let text = std::fs::read_to_string(&flows).unwrap_or_default();
        if let Some(line) = text.lines().next() {
            break line.to_string();
        }
        assert!(Instant::now() < deadline, "no flow line within {STEP:?}");
        thread::sleep(Duration::from_millis(50));
    };
    let flow: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(flow["id.orig_p"], client);
    assert_eq!(flow["end_reason"], "idle");
    running.signal("-INT");
    let (status, _, stderr) = running.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(read_lines(&flows).len(), 1);
}

#[test]
fn the_library_source_hands_out_frames_with_capture_timestamps() {
    use rdsflows::capture::live::{LiveConfig, LiveSource};
    use rdsflows::capture::{LinkType, PacketSource};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    require_root!();
    let mut source = LiveSource::open(LiveConfig {
        interface: "lo".into(),
        filter: Some("host 127.0.0.1 and udp port 40011".into()),
        snaplen: 0,
        promisc: false,
        buffer_bytes: 1 << 20,
        // Bounds the blocking reads below: the source ends after this even with no traffic.
        duration: Some(Duration::from_secs(10)),
        count: Some(1),
        write: None,
        stop: Arc::new(AtomicBool::new(false)),
    })
    .unwrap();
    assert_eq!(source.link(), LinkType::ETHERNET);
    assert_eq!(source.snaplen(), 262_144);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    udp_send(40011);
    let packet = source.next_packet().expect("a frame").expect("no error");
    // Ethernet 14 + IPv4 20 + UDP 8 + 18 bytes of payload.
    assert_eq!(packet.data.len(), 60);
    assert_eq!(packet.orig_len, 60);
    assert_eq!(packet.pos.number, 1);
    let ts = packet.ts.as_secs_f64();
    assert!(
        ts >= before - 1.0 && ts < before + 10.0,
        "pcap header time {ts}"
    );
    // -c 1: the next call ends the capture.
    assert!(source.next_packet().is_none());
    assert_eq!(
        source.stop_reason(),
        Some(rdsflows::capture::live::StopReason::Count)
    );
    assert!(source.kernel_stats().is_some());
}

#[test]
fn a_filter_that_does_not_compile_is_reported_with_libpcaps_message() {
    require_root!();
    let out = Command::new(BIN)
        .args(["capture", "-i", "lo", "-f", "tcp port"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'tcp port' does not compile"), "{stderr}");
    assert!(
        stderr.contains("syntax error"),
        "libpcap's own words: {stderr}"
    );
}

#[test]
fn without_privileges_the_error_names_the_capabilities() {
    require_root!();
    // Drop to nobody for one run; skip where that is not possible (no setpriv, or the binary is
    // not reachable by that user).
    let out = match Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .args([BIN, "capture", "-i", "lo"])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: setpriv not available ({e})");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stderr.contains("rdsflows: error") {
        eprintln!("skipped: cannot run the binary as nobody: {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("setcap cap_net_raw,cap_net_admin=eip"),
        "{stderr}"
    );
    assert!(stderr.contains("root"), "{stderr}");
}

#[test]
fn an_unknown_interface_lists_the_valid_ones() {
    let out = Command::new(BIN)
        .args(["capture", "-i", "rdsflows-no-such-if0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown interface 'rdsflows-no-such-if0'"),
        "{stderr}"
    );
    assert!(stderr.contains("lo"), "the valid ones: {stderr}");
}

#[test]
fn interfaces_lists_loopback_like_tcpdump() {
    let out = Command::new(BIN).arg("interfaces").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout
            .lines()
            .any(|l| l.contains(".lo") && l.contains("Loopback")),
        "{stdout}"
    );
}
