//! End-to-end: the accept loop's limits on the real binary. Slow clients
//! are closed after the header timeout, the connection cap evicts idle
//! connections first and sheds with 503 when every one is busy, and a
//! stalled body gets 408. `riskmap bench connections` runs the 20,000-client
//! case (see BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Server;

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// A fresh connection, one request, the whole answer: (status line, time).
fn get(server: &Server, path: &str) -> (String, Duration) {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr(server)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // A server shedding load answers without reading the request and may
    // have closed its side already: the answer is what counts.
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    (text.lines().next().unwrap_or("").to_string(), t.elapsed())
}

/// A connection that has sent half a request head and then waits.
fn slow_client(server: &Server) -> TcpStream {
    let mut s = TcpStream::connect(addr(server)).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    s
}

/// Reads until the server answers or closes: what it sent, and when.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let t = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), t.elapsed())
}

#[test]
fn a_client_that_sends_half_a_request_head_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--header-timeout",
        "1",
    ]);
    let mut slow = slow_client(&server);
    let (_, after) = read_until_closed(&mut slow, Duration::from_secs(10));
    assert!(
        after >= Duration::from_millis(800) && after < Duration::from_secs(4),
        "closed after {after:?}, expected about 1 s"
    );
    // An idle kept-alive connection is closed the same way.
    let mut kept = TcpStream::connect(addr(&server)).unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let (answer, after) = read_until_closed(&mut kept, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        after < Duration::from_secs(4),
        "idle connection kept {after:?}"
    );
}

#[test]
fn at_the_connection_cap_idle_clients_make_way_and_busy_ones_shed_503() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--max-connections",
        "20",
        "--header-timeout",
        "2",
        "--admin-token",
        "secret",
    ]);
    // Twenty slow clients fill the cap; /health still answers at once,
    // because each newcomer closes the oldest client without a request.
    let mut slow: Vec<TcpStream> = (0..20).map(|_| slow_client(&server)).collect();
    let (status, took) = get(&server, "/health");
    assert!(status.contains(" 200 "), "{status}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    let (text, _) = read_until_closed(&mut slow[0], Duration::from_secs(1));
    assert_eq!(
        text, "",
        "the oldest slow client was closed without an answer"
    );

    // Twenty authorised uploads that stall mid-body: every connection is busy.
    let mut busy: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(addr(&server)).unwrap();
            s.write_all(
                b"POST /collections/parks/items HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                  Authorization: Bearer secret\r\nContent-Type: application/geo+json\r\n\
                  Content-Length: 100000\r\n\r\n{\"type\": \"Fea",
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (status, took) = get(&server, "/health");
    assert!(status.contains(" 503 "), "{status}");
    assert!(took < Duration::from_secs(1), "{took:?}");

    // The stalled bodies time out with 408 and nothing is written.
    let (answer, after) = read_until_closed(&mut busy[0], Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("nothing was written"), "{answer}");
    assert!(after < Duration::from_secs(5), "{after:?}");
    for s in &mut busy[1..] {
        let _ = read_until_closed(s, Duration::from_secs(5));
    }
    let (status, _) = get(&server, "/health");
    assert!(status.contains(" 200 "), "{status}");
    let (status, _) = get(&server, "/collections/parks/items?limit=1000");
    assert!(status.contains(" 200 "), "{status}");
}

#[test]
fn health_answers_within_a_second_while_thousands_of_slow_clients_knock() {
    let dir = tempfile::tempdir().unwrap();
    // The default cap (2048) with more slow clients than that.
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    let clients = 3000;
    let started = Instant::now();
    let mut held = Vec::with_capacity(clients);
    let mut worst = Duration::ZERO;
    for i in 0..clients {
        held.push(slow_client(&server));
        if i % 250 == 0 {
            let (status, took) = get(&server, "/health");
            assert!(status.contains(" 200 "), "after {i} slow clients: {status}");
            worst = worst.max(took);
        }
    }
    let (status, took) = get(&server, "/health");
    assert!(status.contains(" 200 "), "{status}");
    worst = worst.max(took);
    assert!(worst < Duration::from_secs(1), "slowest /health {worst:?}");
    eprintln!(
        "{clients} slow clients in {:?}; slowest /health {worst:?}",
        started.elapsed()
    );
}

/// `/health`'s count of heavy reads whose client left before the answer.
fn work_abandoned(server: &Server) -> u64 {
    let mut s = TcpStream::connect(addr(server)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    v["work_abandoned"].as_u64().unwrap_or(0)
}

#[test]
fn a_siting_check_whose_client_leaves_is_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(work_abandoned(&server), 0);
    // A proposed chlorine site of 60 units: seconds of QRA.
    let units: Vec<serde_json::Value> = (0..60)
        .map(|i| {
            serde_json::json!({"id": format!("T{i}"), "kind": "storage",
                "substances": [{"name": "液氯", "cas": "7782-50-5", "quantity_t": 30.0 + f64::from(i)}]})
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({
        "use": "hazardous_site", "name": "拟建液氯库",
        "geometry": {"type": "Point", "coordinates": [120.30, 30.30]},
        "units": units,
    }))
    .unwrap();
    let mut s = TcpStream::connect(addr(&server)).unwrap();
    write!(
        s,
        "POST /api/siting/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(s);
    let t = Instant::now();
    while work_abandoned(&server) == 0 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        work_abandoned(&server),
        1,
        "the check of a client that left was not abandoned"
    );
    let (status, _) = get(&server, "/health");
    assert!(status.contains(" 200 "), "{status}");
}
