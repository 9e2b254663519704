//! A real `redis-server` for the tests of shared coordination: started on
//! 127.0.0.1 on a free port, without persistence, in a temporary
//! directory, and ready once it answers `PING`; ended (by its process id)
//! when the test drops it. A test without `redis-server` on the `PATH`
//! fails, saying so: `.ci/run` installs it. [`RedisServer::cmd`] sends
//! one command (RESP) for what a test does to the server itself: pause
//! it, delete a lock, read a key.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`.
pub struct RedisServer {
    child: Child,
    pub addr: SocketAddr,
    _dir: super::TempDir,
}

impl RedisServer {
    /// Starts a server; panics when `redis-server` cannot be run.
    pub fn start() -> Self {
        for _ in 0..5 {
            let dir = super::temp_dir("redis");
            let addr = free_port();
            let child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &addr.port().to_string()])
                .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
                .arg("--dir")
                .arg(&*dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("redis-server cannot be started ({e}); .ci/run installs it (apt-get install redis-server)")
                });
            let mut server = Self {
                child,
                addr,
                _dir: dir,
            };
            if server.ready() {
                return server;
            }
            server.stop();
        }
        panic!("redis-server did not start on a free port");
    }

    /// `redis://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    fn ready(&mut self) -> bool {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false; // the port was taken meanwhile
            }
            if self.try_cmd(&["PING"]).is_ok_and(|r| r == "PONG") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Sends one command and reads its answer, as text (an integer's
    /// digits, a bulk string, `nil`, or the error's message after `-`).
    pub fn cmd(&self, args: &[&str]) -> String {
        self.try_cmd(args)
            .unwrap_or_else(|e| panic!("redis {args:?}: {e}"))
    }

    fn try_cmd(&self, args: &[&str]) -> std::io::Result<String> {
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(out.as_bytes())?;
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line)?;
        let line = line.trim_end().to_owned();
        Ok(match line.split_at(1) {
            ("$", "-1") => "nil".to_owned(),
            ("$", n) => {
                let n: usize = n.parse().unwrap_or(0);
                let mut buf = vec![0; n + 2];
                r.read_exact(&mut buf)?;
                String::from_utf8_lossy(&buf[..n]).into_owned()
            }
            ("+" | ":", rest) => rest.to_owned(),
            _ => line,
        })
    }

    /// Ends the server now (SIGKILL), as a crashed or unreachable Redis.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // Only this test's own server, by its id.
        self.stop();
    }
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}
