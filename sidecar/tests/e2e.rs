//! Mode 2 behind real nginx (auth_request) and real Caddy (forward_auth), each started here as a
//! foreground process with the configuration of deploy/, only its addresses replaced. Skipped,
//! loudly, only when the nginx or caddy binary is not installed (`.ci/run` installs both).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use http::StatusCode;
use tokio::net::TcpStream;

use crate::common::*;

const ASSERTION: &str = "x-pomerium-jwt-assertion";
const OTHER: &str = "other.example.com";

struct Process(Child, std::path::PathBuf);

impl Drop for Process {
    /// SIGTERM, not SIGKILL: nginx's master then stops its workers, which SIGKILL would leave
    /// running, listening, with no parent.
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        for _ in 0..200 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn installed(binary: &str) -> bool {
    let found =
        Command::new("sh").args(["-c", &format!("command -v {binary}")]).output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("\n*** SKIPPED: `{binary}` is not installed; the {binary} end-to-end test did NOT run ***\n");
    }
    found
}

/// The deploy file with its three addresses replaced.
fn config(file: &str, proxy: u16, sidecar: u16, app: u16) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(file)).unwrap();
    text.replace("127.0.0.1:8081", &format!("127.0.0.1:{sidecar}"))
        .replace("127.0.0.1:3000", &format!("127.0.0.1:{app}"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{proxy}"))
        .replace("http://:8080", &format!("http://:{proxy}"))
}

async fn wait_for(port: u16, process: &mut Process, log: &Path) {
    for _ in 0..400 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        if let Some(status) = process.0.try_wait().unwrap() {
            panic!("exited {status}: {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("nothing listens on {port}: {}", std::fs::read_to_string(log).unwrap_or_default());
}

async fn sidecar(name: &str) -> Sidecar {
    let keys = key_file(name, &[OLD]);
    let audiences = format!("{AUD},{OTHER}");
    Sidecar::start(name, &["--auth-only", "--key", keys.to_str().unwrap(), "--audience", &audiences]).await
}

/// The cases both proxies must pass: valid, forged, expired, wrong host, forged claim headers.
async fn check(proxy: u16, upstream: &Upstream) {
    let addr = format!("127.0.0.1:{proxy}").parse().unwrap();
    let forged_claims = [
        ("X-Pomerium-Claim-Email", "mallory@example.com"),
        ("x-pomerium-claim-groups", "root"),
        ("X-POMERIUM-CLAIM-NAME", "Mallory"),
    ];
    let valid = token();
    let expired = {
        let mut c = claims();
        c["exp"] = (now() - 3600).into();
        c["iat"] = (now() - 4000).into();
        sign(OLD, &c)
    };
    let refused: Vec<(&str, &str, String)> = vec![
        ("missing", AUD, String::new()),
        ("forged signature", AUD, sign(ATTACKER, &claims())),
        ("expired", AUD, expired),
        ("wrong host", OTHER, valid.clone()),
        ("unlisted host", "unlisted.example.com", sign(OLD, &claims_for("unlisted.example.com"))),
    ];
    for (case, host, token) in &refused {
        let mut headers: Vec<(&str, &str)> = forged_claims.to_vec();
        if !token.is_empty() {
            headers.push((ASSERTION, token));
        }
        let response = send(addr, get("/private", host, &headers)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert!(response.headers().contains_key("www-authenticate"), "{case}: {:?}", response.headers());
    }
    assert!(upstream.seen().is_empty(), "a refused request reached the app: {:?}", upstream.seen());

    let mut headers: Vec<(&str, &str)> = forged_claims.to_vec();
    headers.push((ASSERTION, &valid));
    let response = send(addr, get("/private?q=1", AUD, &headers)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen = upstream.seen().pop().unwrap();
    let h = &seen.headers;
    assert_eq!(seen.uri, "/private?q=1");
    assert_eq!(h.get_all("x-pomerium-claim-email").iter().collect::<Vec<_>>(), ["alice@example.com"]);
    assert_eq!(h.get_all("x-pomerium-claim-groups").iter().collect::<Vec<_>>(), ["admins,devs"]);
    assert_eq!(h.get_all("x-pomerium-claim-name").iter().collect::<Vec<_>>(), ["Alice"]);
    assert_eq!(h["x-pomerium-claim-sub"], "alice-id-0001");

    // A token without the claims: the client's forged values must not stand in for them.
    let mut bare = claims();
    for claim in ["email", "groups", "name"] {
        bare.as_object_mut().unwrap().remove(claim);
    }
    let bare = sign(OLD, &bare);
    let mut headers: Vec<(&str, &str)> = forged_claims.to_vec();
    headers.push((ASSERTION, &bare));
    let response = send(addr, get("/bare", AUD, &headers)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen = upstream.seen().pop().unwrap();
    for (name, forged) in forged_claims {
        let values: Vec<_> = seen.headers.get_all(name).iter().collect();
        assert!(values.iter().all(|v| v.is_empty()), "forged {name}: {forged} reached the app as {values:?}");
    }
    // A user in 500 groups: a 20 KiB token in, a 12 KiB claim header out.
    let mut many = claims();
    many["groups"] = (0..500).map(|i| format!("group-{i:03}@example.com")).collect::<Vec<_>>().into();
    let many = sign(OLD, &many);
    assert!(many.len() > 16 * 1024, "{}", many.len());
    let response = send(addr, get("/many", AUD, &[(ASSERTION, &many)])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen = upstream.seen().pop().unwrap();
    assert_eq!(seen.headers["x-pomerium-claim-groups"].to_str().unwrap().split(',').count(), 500);

    // The other listed host with its own token passes.
    let other = sign(OLD, &claims_for(OTHER));
    assert_eq!(send(addr, get("/", OTHER, &[(ASSERTION, &other)])).await.status(), StatusCode::OK);
    assert_eq!(upstream.seen().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_auth_request() {
    if !installed("nginx") {
        return;
    }
    let upstream = Upstream::start().await;
    let sidecar = sidecar("e2e-nginx").await;
    let dir = scratch("e2e-nginx");
    let port = free_port();
    let text = config("nginx.conf", port, sidecar.addr.port(), upstream.addr.port());
    nginx(&dir, &text, port, &upstream).await;
}

/// The deploy file's other form: nginx asks the sidecar over a Unix socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_auth_request_over_a_unix_socket() {
    if !installed("nginx") {
        return;
    }
    let upstream = Upstream::start().await;
    let dir = scratch("e2e-nginx-unix");
    let socket = dir.join("sidecar.sock");
    let keys = key_file("e2e-nginx-unix", &[OLD]);
    let audiences = format!("{AUD},{OTHER}");
    let _sidecar = start_unix(
        "e2e-nginx-unix",
        &socket,
        &["--auth-only", "--key", keys.to_str().unwrap(), "--audience", &audiences],
    )
    .await;
    let port = free_port();
    let tcp = "server 127.0.0.1:8081;";
    let file = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf")).unwrap();
    assert!(file.contains(tcp) && file.contains("server unix:"), "deploy/nginx.conf names both forms");
    let text = config("nginx.conf", port, 8081, upstream.addr.port())
        .replace(tcp, &format!("server unix:{};", socket.display()));
    nginx(&dir, &text, port, &upstream).await;
}

/// nginx on `port` with the configuration `text`, through the checks both proxies must pass.
async fn nginx(dir: &Path, text: &str, port: u16, upstream: &Upstream) {
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, text).unwrap();
    let log = dir.join("error.log");
    let globals = format!("daemon off; pid {}/nginx.pid;", dir.display());
    let child = Command::new("nginx")
        .args(["-p", dir.to_str().unwrap(), "-c", conf.to_str().unwrap(), "-e", log.to_str().unwrap(), "-g", &globals])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut nginx = Process(child, dir.to_owned());
    wait_for(port, &mut nginx, &log).await;
    check(port, upstream).await;
    let _ = &nginx.1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_caddy_forward_auth() {
    if !installed("caddy") {
        return;
    }
    let upstream = Upstream::start().await;
    let sidecar = sidecar("e2e-caddy").await;
    let dir = scratch("e2e-caddy");
    let port = free_port();
    let conf = dir.join("Caddyfile");
    std::fs::write(&conf, config("Caddyfile", port, sidecar.addr.port(), upstream.addr.port())).unwrap();
    let log = dir.join("caddy.log");
    let child = Command::new("caddy")
        .args(["run", "--config", conf.to_str().unwrap(), "--adapter", "caddyfile"])
        .env("HOME", &dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut caddy = Process(child, dir.clone());
    wait_for(port, &mut caddy, &log).await;
    check(port, &upstream).await;
}
