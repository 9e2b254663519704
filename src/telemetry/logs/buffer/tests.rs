use super::*;
use std::sync::mpsc;

/// Everything the background thread wrote, in order.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Sink {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sink that takes nothing until opened, like a pipe nobody reads;
/// each write it is asked for is announced on `started`.
struct Gate {
    sink: Sink,
    open: Arc<(Mutex<bool>, Condvar)>,
    started: mpsc::Sender<()>,
}

/// Opens a [`Gate`].
struct Opener(Arc<(Mutex<bool>, Condvar)>);

impl Opener {
    fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }
}

impl Drop for Opener {
    fn drop(&mut self) {
        self.open();
    }
}

fn gate() -> (Gate, Opener, mpsc::Receiver<()>, Sink) {
    let open = Arc::new((Mutex::new(false), Condvar::new()));
    let (started, writes) = mpsc::channel();
    let sink = Sink::default();
    let g = Gate {
        sink: sink.clone(),
        open: open.clone(),
        started,
    };
    (g, Opener(open), writes, sink)
}

impl Write for Gate {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let _ = self.started.send(());
        let (lock, cv) = &*self.open;
        let mut open = lock.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
        self.sink.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn summary(n: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("-- {n} dropped\n").as_bytes());
}

fn small(max_buffered: usize) -> Limits {
    Limits {
        max_buffered,
        exit_wait: Duration::from_millis(200),
    }
}

/// Runs `f` on another thread and fails if it does not return in time
/// (a writer that blocks would otherwise hang the test).
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} blocked"))
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// 100-byte lines numbered `i`.
fn line(i: usize) -> Vec<u8> {
    let mut l = format!("line {i:03} ").into_bytes();
    l.resize(99, b'.');
    l.push(b'\n');
    l
}

#[test]
fn lines_arrive_whole_and_in_order_when_the_guard_drops() {
    let sink = Sink::default();
    let dropped = Counter::default();
    let (writer, flusher) =
        buffered(sink.clone(), summary, dropped.clone(), Limits::default()).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let mut w = writer.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    w.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    drop(flusher);
    let text = sink.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2000);
    for t in 0..4 {
        let mine: Vec<usize> = lines
            .iter()
            .filter_map(|l| l.strip_prefix(&format!("{t} ")))
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(mine, (0..500).collect::<Vec<_>>(), "thread {t}");
    }
    assert_eq!(dropped.get(), 0);
}

#[test]
fn a_full_sink_drops_and_counts_lines_and_says_so_when_it_drains() {
    let (gate, opener, writes, sink) = gate();
    let dropped = Counter::default();
    let (mut writer, flusher) = buffered(gate, summary, dropped.clone(), small(1000)).unwrap();
    writer.write_all(b"first\n").unwrap();
    // The background thread is now stuck writing `first`.
    writes.recv_timeout(Duration::from_secs(20)).unwrap();
    let mut w = writer.clone();
    within("a write on a full buffer", move || {
        for i in 0..50 {
            w.write_all(&line(i)).unwrap();
        }
    });
    // Ten 100-byte lines fit in 1000 bytes; the other forty are dropped.
    assert_eq!(dropped.get(), 40);
    opener.open();
    wait_until("no summary after the sink drained", || {
        sink.text().contains("dropped")
    });
    writer.write_all(b"after\n").unwrap();
    drop(flusher);
    let text = sink.text();
    let mut expected = String::from("first\n");
    for i in 0..10 {
        expected.push_str(std::str::from_utf8(&line(i)).unwrap());
    }
    expected.push_str("-- 40 dropped\nafter\n");
    assert_eq!(text, expected);
    assert_eq!(dropped.get(), 40);
}

#[test]
fn a_line_that_fits_after_a_gap_is_preceded_by_the_summary() {
    let (gate, opener, writes, sink) = gate();
    let dropped = Counter::default();
    let (mut writer, flusher) = buffered(gate, summary, dropped.clone(), small(1000)).unwrap();
    writer.write_all(b"first\n").unwrap();
    writes.recv_timeout(Duration::from_secs(20)).unwrap();
    let mut w = writer.clone();
    within("a write on a full buffer", move || {
        w.write_all(&line(0)).unwrap();
        w.write_all(&[b'x'; 950]).unwrap(); // does not fit: dropped
        w.write_all(b"short\n").unwrap(); // fits, after the gap
    });
    assert_eq!(dropped.get(), 1);
    opener.open();
    drop(flusher);
    let expected = format!(
        "first\n{}-- 1 dropped\nshort\n",
        std::str::from_utf8(&line(0)).unwrap()
    );
    assert_eq!(sink.text(), expected);
}

#[test]
fn a_blocked_sink_holds_up_the_guard_only_for_the_exit_wait() {
    let (gate, opener, writes, sink) = gate();
    let (mut writer, flusher) = buffered(gate, summary, Counter::default(), small(1000)).unwrap();
    writer.write_all(b"stuck\n").unwrap();
    writes.recv_timeout(Duration::from_secs(20)).unwrap();
    writer.write_all(b"never written\n").unwrap();
    within("dropping the guard on a blocked sink", move || {
        drop(flusher)
    });
    assert_eq!(sink.text(), "");
    // The background thread ends once the sink takes its chunk.
    drop(opener);
}

#[test]
fn lines_a_failing_sink_could_not_take_are_counted() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let dropped = Counter::default();
    let (mut writer, flusher) =
        buffered(Broken, summary, dropped.clone(), Limits::default()).unwrap();
    writer.write_all(b"one\ntwo\n").unwrap();
    writer.write_all(b"three\n").unwrap();
    drop(flusher);
    assert_eq!(dropped.get(), 3);
}

#[test]
fn lines_written_after_the_guard_dropped_are_counted_not_kept() {
    let sink = Sink::default();
    let dropped = Counter::default();
    let (mut writer, flusher) =
        buffered(sink.clone(), summary, dropped.clone(), Limits::default()).unwrap();
    writer.write_all(b"kept\n").unwrap();
    drop(flusher);
    writer.write_all(b"late line\n").unwrap();
    assert_eq!(sink.text(), "kept\n");
    assert_eq!(dropped.get(), 1);
}
