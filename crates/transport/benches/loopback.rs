//! Loopback benchmark: our client against our server, beside a minimal hand-written hyper
//! client and server, both moving a fixed ~35 KB body; prints requests/s and the ratio.
//!
//! Run with `cargo bench -p ivr-reports-transport`. Criterion measures each pair; a paired
//! run afterwards (the pairs alternate, three rounds each) prints the ratio the issue's
//! target (>= 0.9x) refers to.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ivr_reports_transport::{Client, Server, ServerHandle};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// About the size of a page of 50 v1 reports.
const BODY_BYTES: usize = 35 * 1024;

fn body() -> Bytes {
    Bytes::from(vec![b'r'; BODY_BYTES])
}

fn our_server() -> ServerHandle {
    let payload = body();
    Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        move |_req: Request<Bytes>| {
            let payload = payload.clone();
            async move { Ok::<_, Infallible>(Response::new(payload)) }
        },
    )
    .unwrap()
}

/// The minimal pair's server: hyper's HTTP/1.1 connection and a fixed body, nothing else.
async fn minimal_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let payload = body();
    tokio::spawn(async move {
        // Bounded: the benchmark opens a handful of connections.
        for _ in 0..1024 {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let _ = tcp.set_nodelay(true);
            let payload = payload.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let payload = payload.clone();
                    async move {
                        let _ = req.into_body().collect().await;
                        Ok::<_, Infallible>(Response::new(Full::new(payload)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

/// The minimal pair's client: one hyper HTTP/1.1 connection reused.
async fn minimal_client(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn ours_once(client: &Client, url: &str) -> usize {
    let request = Request::get(url).body(Bytes::new()).unwrap();
    let response = client.send(request).await.unwrap();
    assert_eq!(response.body().len(), BODY_BYTES);
    response.body().len()
}

async fn minimal_once(sender: &mut SendRequest<Full<Bytes>>, addr: SocketAddr) -> usize {
    sender.ready().await.unwrap();
    let request = Request::get("/")
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), BODY_BYTES);
    body.len()
}

struct Pairs {
    client: Client,
    url: String,
    sender: SendRequest<Full<Bytes>>,
    minimal_addr: SocketAddr,
    _server: ServerHandle,
}

fn setup(rt: &Runtime) -> Pairs {
    rt.block_on(async {
        let server = our_server();
        let url = format!("http://{}/tts/3/reports", server.local_addr());
        let client = Client::builder().build().unwrap();
        let minimal_addr = minimal_server().await;
        let sender = minimal_client(minimal_addr).await;
        Pairs {
            client,
            url,
            sender,
            minimal_addr,
            _server: server,
        }
    })
}

fn criterion_runs(c: &mut Criterion, rt: &Runtime, pairs: &mut Pairs) {
    let mut group = c.benchmark_group("loopback_35kb");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ours_client_and_server", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(ours_once(&pairs.client, &pairs.url).await);
                }
                started.elapsed()
            })
        });
    });
    group.bench_function("minimal_hyper_pair", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(minimal_once(&mut pairs.sender, pairs.minimal_addr).await);
                }
                started.elapsed()
            })
        });
    });
    group.finish();
}

/// Requests/s of each pair, sequential on one connection, measured in alternating rounds of
/// `window` so that load from elsewhere on the machine hits both alike. Returns the totals
/// and the median of the per-round ratios.
fn paired_run(rt: &Runtime, pairs: &mut Pairs, rounds: usize, window: Duration) -> (f64, f64, f64) {
    let (mut ours, mut minimal) = (0u64, 0u64);
    let (mut ours_time, mut minimal_time) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        rt.block_on(async {
            let (mut n_ours, mut n_minimal) = (0u64, 0u64);
            let started = Instant::now();
            while started.elapsed() < window {
                ours_once(&pairs.client, &pairs.url).await;
                n_ours += 1;
            }
            let t_ours = started.elapsed();
            let started = Instant::now();
            while started.elapsed() < window {
                minimal_once(&mut pairs.sender, pairs.minimal_addr).await;
                n_minimal += 1;
            }
            let t_minimal = started.elapsed();
            ratios.push(
                (n_ours as f64 / t_ours.as_secs_f64())
                    / (n_minimal as f64 / t_minimal.as_secs_f64()),
            );
            ours += n_ours;
            minimal += n_minimal;
            ours_time += t_ours;
            minimal_time += t_minimal;
        });
    }
    ratios.sort_by(f64::total_cmp);
    (
        ours as f64 / ours_time.as_secs_f64(),
        minimal as f64 / minimal_time.as_secs_f64(),
        ratios[ratios.len() / 2],
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut pairs = setup(&rt);
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();
    criterion_runs(&mut criterion, &rt, &mut pairs);
    criterion.final_summary();

    let (ours, minimal, median_ratio) = paired_run(&rt, &mut pairs, 10, Duration::from_millis(300));
    println!();
    println!("loopback, {BODY_BYTES}-byte body, sequential requests on one connection,");
    println!("10 alternating rounds of 300 ms per pair:");
    println!("  ours (Client + Server):        {ours:>9.0} requests/s");
    println!("  minimal hyper client + server: {minimal:>9.0} requests/s");
    println!(
        "  ratio ours / minimal:          {:>9.2}x (target >= 0.90x)",
        ours / minimal
    );
    println!("  median of per-round ratios:    {median_ratio:>9.2}x");
}
