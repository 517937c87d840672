//! Five consecutive free ports for tests of a fixed port layout, reserved so that no other
//! test (in this process or another test binary) is handed the same block while it runs.
//!
//! A block is claimed by an exclusive `flock` on `$TMPDIR/magsim-ports/<base>.lock`, held by
//! the returned [`PortBlock`] until it drops. Locks are per open file, so two threads of one
//! process conflict as two processes do; the kernel releases them when a process dies, so a
//! crashed run leaves nothing stale. The ports are probed too, for servers outside magsim.

use std::fs::{File, OpenOptions};
use std::net::TcpListener;

/// A claimed block of five ports, `base..base + 5`.
pub struct PortBlock {
    pub base: u16,
    _lock: File,
}

/// Claims a block in `first..first + 5 * blocks`, below Linux's ephemeral range.
pub fn claim(first: u16, blocks: u16) -> PortBlock {
    let dir = std::env::temp_dir().join("magsim-ports");
    std::fs::create_dir_all(&dir).expect("creating the port lock folder");
    let spread = (std::process::id() % u32::from(blocks)) as u16;
    (0..blocks)
        .map(|i| first + ((spread + i) % blocks) * 5)
        .find_map(|base| {
            let lock = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(dir.join(format!("{base}.lock")))
                .ok()?;
            lock.try_lock().ok()?;
            let free = (0..5).all(|i| TcpListener::bind(("0.0.0.0", base + i)).is_ok());
            free.then_some(PortBlock { base, _lock: lock })
        })
        .expect("five consecutive free ports")
}
