//! A small HTTP/1.1 server on `std::net` for `blameless serve`: the only code that
//! parses requests. GET and HEAD only, no request bodies, hard caps on the request
//! line, the headers and the query; keep-alive with an idle timeout and a request
//! cap per connection; a bounded pool of worker threads behind a bounded queue.
//!
//! It knows nothing of sites: [`Handler::handle`] turns a parsed [`Request`] into a
//! [`Response`]. A response may instead take the connection over ([`Body::Stream`],
//! for server-sent events), on a thread of its own, capped separately.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Longest request line (method, target, version), in bytes: longer is 414.
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Longest query string, in bytes: longer is 414.
pub const MAX_QUERY: usize = 2 * 1024;
/// Most header bytes (all lines together): more is 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most header lines: more is 431.
pub const MAX_HEADERS: usize = 64;
/// Requests served on one connection before it is closed.
const MAX_REQUESTS_PER_CONNECTION: usize = 1_000;
/// How long a connection may take to send a request (and stay idle between two).
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Worker threads, and connections waiting for one.
const WORKERS: usize = 16;
const QUEUE: usize = 64;
/// Connections that may hold a stream (live reload) at once.
const MAX_STREAMS: usize = 32;

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET` or `HEAD`.
    pub method: String,
    /// The target's path, as sent (still percent-encoded).
    pub path: String,
    /// The query string without `?` (still percent-encoded), empty if none.
    pub query: String,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// HTTP/1.0 (whose connections close after one request).
    pub http10: bool,
}

impl Request {
    /// The first header named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to answer.
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers besides `Content-Length`, `Connection` and `Date`-less defaults.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Body,
}

/// A response body.
pub enum Body {
    /// Bytes, sent with a `Content-Length`.
    Bytes(Arc<[u8]>),
    /// The connection is handed over (after the status line and headers) to this
    /// function, on its own thread; it writes until it returns.
    Stream(Box<dyn FnOnce(&mut TcpStream) + Send>),
}

impl Response {
    /// A response with these bytes.
    pub fn bytes(status: u16, content_type: &str, body: impl Into<Arc<[u8]>>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: Body::Bytes(body.into()),
        }
    }

    /// A plain-text answer (errors).
    pub fn text(status: u16, text: &str) -> Self {
        Self::bytes(
            status,
            "text/plain; charset=utf-8",
            format!("{status} {}: {text}\n", reason(status)).into_bytes(),
        )
    }

    /// A JSON answer.
    pub fn json(status: u16, json: String) -> Self {
        Self::bytes(status, "application/json", json.into_bytes())
    }

    /// Add a header.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// Answers requests.
pub trait Handler: Send + Sync + 'static {
    /// The answer to `req`.
    fn handle(&self, req: &Request) -> Response;
}

/// A running server; stops (and joins its threads) on [`Server::stop`].
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Listen on `addr` (port 0: any free port) and serve with `handler`.
    pub fn start(addr: SocketAddr, handler: Arc<dyn Handler>) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::sync_channel::<TcpStream>(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let streams = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..WORKERS {
            let rx = Arc::clone(&rx);
            let handler = Arc::clone(&handler);
            let streams = Arc::clone(&streams);
            let stop = Arc::clone(&stop);
            threads.push(std::thread::spawn(move || loop {
                let conn = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                match conn {
                    Ok(conn) => serve_connection(conn, &*handler, &streams, &stop),
                    Err(_) => return,
                }
            }));
        }
        let stop_accept = Arc::clone(&stop);
        threads.push(std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop_accept.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                if let Err(mpsc::TrySendError::Full(mut conn)) = tx.try_send(conn) {
                    // Every worker is busy and the queue is full: say so at once
                    // rather than letting the client hang.
                    let _ = conn.set_write_timeout(Some(WRITE_TIMEOUT));
                    let _ = write_response(
                        &mut conn,
                        "GET",
                        Response::text(503, "the server is busy; try again"),
                        false,
                    );
                }
            }
        }));
        Ok(Server {
            addr,
            stop,
            threads,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, let the workers finish their connections, and join them.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Why a request could not be read.
enum ReadError {
    /// The connection closed or timed out before a request started: nothing to say.
    Closed,
    /// A malformed or oversized request: answer with this status, then close.
    Status(u16, &'static str),
}

fn serve_connection(
    conn: TcpStream,
    handler: &dyn Handler,
    streams: &Arc<AtomicUsize>,
    stop: &AtomicBool,
) {
    let _ = conn.set_read_timeout(Some(READ_TIMEOUT));
    let _ = conn.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = conn.set_nodelay(true);
    let Ok(write_half) = conn.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(conn);
    for n in 0..MAX_REQUESTS_PER_CONNECTION {
        let req = match read_request(&mut reader) {
            Ok(req) => req,
            Err(ReadError::Closed) => return,
            Err(ReadError::Status(status, why)) => {
                let _ = write_response(&mut writer, "GET", Response::text(status, why), false);
                return;
            }
        };
        let keep_alive = wants_keep_alive(&req)
            && n + 1 < MAX_REQUESTS_PER_CONNECTION
            && !stop.load(Ordering::SeqCst);
        let response = if req.method == "GET" || req.method == "HEAD" {
            handler.handle(&req)
        } else {
            Response::text(405, "only GET and HEAD are served").with("Allow", "GET, HEAD")
        };
        match response.body {
            Body::Stream(f) => {
                if streams.fetch_add(1, Ordering::SeqCst) >= MAX_STREAMS {
                    streams.fetch_sub(1, Ordering::SeqCst);
                    let busy = Response::text(503, "too many live-reload connections");
                    let _ = write_response(&mut writer, &req.method, busy, false);
                    return;
                }
                let head = head_bytes(response.status, &response.headers, None, false);
                if writer.write_all(&head).is_err() {
                    streams.fetch_sub(1, Ordering::SeqCst);
                    return;
                }
                let streams = Arc::clone(streams);
                let _ = writer.set_write_timeout(Some(WRITE_TIMEOUT));
                std::thread::spawn(move || {
                    f(&mut writer);
                    streams.fetch_sub(1, Ordering::SeqCst);
                });
                return;
            }
            Body::Bytes(_) => {
                if write_response(&mut writer, &req.method, response, keep_alive).is_err()
                    || !keep_alive
                {
                    return;
                }
            }
        }
    }
}

fn wants_keep_alive(req: &Request) -> bool {
    let connection = req.header("connection").unwrap_or("").to_ascii_lowercase();
    !req.http10 && !connection.split(',').any(|t| t.trim() == "close")
}

/// Read one request head. Caps are enforced while reading, so an oversized request
/// never sits in memory whole.
fn read_request(reader: &mut BufReader<TcpStream>) -> Result<Request, ReadError> {
    let line = match read_line(reader, MAX_REQUEST_LINE) {
        Ok(Some(line)) => line,
        Ok(None) => return Err(ReadError::Closed),
        Err(LineError::TooLong) => return Err(ReadError::Status(414, "request line too long")),
        Err(LineError::Io) => return Err(ReadError::Closed),
        Err(LineError::NotText) => return Err(ReadError::Status(400, "malformed request line")),
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Status(400, "malformed request line"));
    };
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(ReadError::Status(505, "only HTTP/1.1 is served"));
    }
    if !target.starts_with('/') {
        return Err(ReadError::Status(400, "the target must be a path"));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    };
    if query.len() > MAX_QUERY {
        return Err(ReadError::Status(414, "query string too long"));
    }
    let mut headers = Vec::new();
    let mut header_bytes = 0;
    loop {
        let line = match read_line(
            reader,
            MAX_HEADER_BYTES - header_bytes.min(MAX_HEADER_BYTES),
        ) {
            Ok(Some(line)) => line,
            Ok(None) | Err(LineError::Io) => return Err(ReadError::Closed),
            Err(LineError::TooLong) => {
                return Err(ReadError::Status(431, "request headers too large"))
            }
            Err(LineError::NotText) => return Err(ReadError::Status(400, "malformed header")),
        };
        header_bytes += line.len() + 2;
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
            return Err(ReadError::Status(431, "too many request headers"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Status(400, "malformed header"));
        };
        if name.is_empty() || name.contains(|c: char| c.is_ascii_whitespace()) {
            return Err(ReadError::Status(400, "malformed header"));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let req = Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        http10: version == "HTTP/1.0",
    };
    // No request bodies: GET and HEAD have none, and nothing else is served.
    let has_body = req.header("transfer-encoding").is_some()
        || req
            .header("content-length")
            .is_some_and(|n| n.trim() != "0");
    if has_body {
        return Err(ReadError::Status(413, "request bodies are not accepted"));
    }
    Ok(req)
}

enum LineError {
    TooLong,
    NotText,
    Io,
}

/// One CRLF- (or LF-) terminated line of at most `max` bytes, without the ending.
/// `Ok(None)` at a clean end of stream.
fn read_line(reader: &mut BufReader<TcpStream>, max: usize) -> Result<Option<String>, LineError> {
    let mut buf = Vec::new();
    let n = reader
        .by_ref()
        .take(max as u64 + 2)
        .read_until(b'\n', &mut buf)
        .map_err(|_| LineError::Io)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(if n >= max {
            LineError::TooLong
        } else {
            LineError::Io
        });
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    if buf.len() > max {
        return Err(LineError::TooLong);
    }
    if buf.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
        return Err(LineError::NotText);
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| LineError::NotText)
}

fn head_bytes(
    status: u16,
    headers: &[(&'static str, String)],
    length: Option<usize>,
    keep_alive: bool,
) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        // Values are built by the server, never copied from a request, but a CR or
        // LF must still never split a header.
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("X-Content-Type-Options: nosniff\r\n");
    if let Some(n) = length {
        head.push_str(&format!("Content-Length: {n}\r\n"));
        head.push_str(if keep_alive {
            "Connection: keep-alive\r\n"
        } else {
            "Connection: close\r\n"
        });
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn write_response(
    w: &mut TcpStream,
    method: &str,
    response: Response,
    keep_alive: bool,
) -> std::io::Result<()> {
    let Body::Bytes(body) = response.body else {
        return Ok(());
    };
    let mut out = head_bytes(
        response.status,
        &response.headers,
        Some(body.len()),
        keep_alive,
    );
    if method != "HEAD" {
        out.extend_from_slice(&body);
    }
    w.write_all(&out)?;
    w.flush()
}

/// The reason phrase of the statuses this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        421 => "Misdirected Request",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Percent-decode `s` (`+` as a space when `plus_is_space`); `None` if an escape
/// is malformed.
fn percent_decode(s: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Percent-decode a URL path. `None` if an escape is malformed, the result is not
/// UTF-8, or an escape decodes to a separator or control character (`%2f`, `%5c`,
/// `%00`…), which no file name of a built site contains.
pub fn decode_path(path: &str) -> Option<String> {
    let forbidden = |b: u8| b == b'/' || b == b'\\' || b < 0x20 || b == 0x7f;
    let escapes_ok = path.split('%').skip(1).all(|rest| {
        rest.get(..2)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .is_some_and(|b| !forbidden(b))
    });
    if !escapes_ok {
        return None;
    }
    String::from_utf8(percent_decode(path, false)?).ok()
}

/// Decode an `application/x-www-form-urlencoded` query into pairs (`+` is a space).
/// `None` if an escape is malformed or a value is not UTF-8.
pub fn parse_query(query: &str) -> Option<Vec<(String, String)>> {
    let decode = |s: &str| String::from_utf8(percent_decode(s, true)?).ok();
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_decode_but_never_to_separators() {
        assert_eq!(decode_path("/a%20b/").as_deref(), Some("/a b/"));
        assert_eq!(decode_path("/%2e%2e/x").as_deref(), Some("/../x"));
        assert_eq!(decode_path("/a%2fb"), None);
        assert_eq!(decode_path("/a%5Cb"), None);
        assert_eq!(decode_path("/a%00"), None);
        assert_eq!(decode_path("/a%zz"), None);
        assert_eq!(decode_path("/a%"), None);
        assert_eq!(decode_path("/%ff"), None);
    }

    #[test]
    fn queries_are_form_decoded() {
        assert_eq!(
            parse_query("q=pods+OOMKilled&limit=5&x=%3Cb%3E").expect("valid"),
            vec![
                ("q".to_string(), "pods OOMKilled".to_string()),
                ("limit".to_string(), "5".to_string()),
                ("x".to_string(), "<b>".to_string()),
            ]
        );
        assert_eq!(parse_query("q=%E2%82"), None);
        assert_eq!(parse_query("").expect("valid"), Vec::new());
    }
}
