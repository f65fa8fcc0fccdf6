//! The vpcd front: connects to the vpcd driver inside pcscd and answers it as a card.
//!
//! vpcd framing: a 2-byte big-endian length, then the payload. A 1-byte payload is a
//! control code (0 power off, 1 power on, 2 reset, 4 get ATR, answered with the framed
//! ATR); anything longer is a command APDU, answered with the framed response APDU.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::card::SimCard;
use crate::YUBIKEY5_ATR;

const CTRL_POWER_OFF: u8 = 0;
const CTRL_POWER_ON: u8 = 1;
const CTRL_RESET: u8 = 2;
const CTRL_GET_ATR: u8 = 4;

/// How long to wait between attempts to reach vpcd (pcscd not yet up, or restarted).
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);

fn read_frame(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len)?;
    // Acknowledge the length at once, so vpcd's kernel releases the data that Nagle's
    // algorithm holds back until then. Linux clears quick-ACK mode by itself, so it is
    // set again for every frame; setting it also sends an acknowledgement already due.
    quick_ack(stream);
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

fn write_frame(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "frame over 65535 bytes"))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    stream.write_all(&out)
}

/// Asks the kernel to acknowledge received data immediately (Linux TCP_QUICKACK). A
/// failure only costs speed, so it is ignored.
fn quick_ack(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::net::sockopt::set_tcp_quickack(stream, true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

/// Hex of an APDU for tracing, with VERIFY/CHANGE/RESET RETRY data hidden: even a
/// simulator's log should not teach printing PINs.
fn trace_hex(apdu: &[u8]) -> String {
    let secret = apdu.len() > 5 && matches!(apdu[1], 0x20 | 0x24 | 0x2C);
    let shown = if secret { &apdu[..5] } else { apdu };
    let mut s: String = shown.iter().map(|b| format!("{b:02X}")).collect();
    if secret {
        s.push_str(" <secret>");
    }
    s
}

/// Serves one connection until vpcd closes it.
fn serve(stream: &mut TcpStream, card: &Mutex<SimCard>, trace: bool) -> io::Result<()> {
    loop {
        let frame = read_frame(stream)?;
        // The lock is held for the whole command so a SIGTERM never lands mid-write.
        let mut card = card.lock().unwrap_or_else(|p| p.into_inner());
        if trace && frame.len() == 1 {
            eprintln!("vpcd control {}", frame[0]);
        }
        match frame.as_slice() {
            [CTRL_POWER_OFF] | [CTRL_POWER_ON] | [CTRL_RESET] => card.power_cycle(),
            [CTRL_GET_ATR] => write_frame(stream, &YUBIKEY5_ATR)?,
            [_] => {}
            apdu => {
                let resp = card.transmit(apdu);
                if trace {
                    eprintln!("> {}\n< {}", trace_hex(apdu), trace_hex(&resp));
                }
                write_frame(stream, &resp)?;
            }
        }
    }
}

/// Connects to vpcd at `addr` and serves the card, reconnecting whenever the
/// connection drops (pcscd restarted), for as long as the process lives. The binary
/// stops it by exiting from its signal thread while holding the card lock.
pub fn run(addr: &str, card: Arc<Mutex<SimCard>>, trace: bool) -> ! {
    let mut announced = false;
    loop {
        match TcpStream::connect(addr) {
            Ok(mut stream) => {
                let _ = stream.set_nodelay(true);
                quick_ack(&stream);
                eprintln!("glasskeep-piv-sim: connected to vpcd at {addr}");
                announced = false;
                if let Err(e) = serve(&mut stream, &card, trace) {
                    eprintln!("glasskeep-piv-sim: vpcd connection ended ({e}); reconnecting");
                }
                card.lock().unwrap_or_else(|p| p.into_inner()).power_cycle();
            }
            Err(e) => {
                if !announced {
                    eprintln!("glasskeep-piv-sim: waiting for vpcd at {addr} ({e})");
                    announced = true;
                }
            }
        }
        std::thread::sleep(RECONNECT_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use super::trace_hex;

    #[test]
    fn trace_hides_pin_and_puk_data() {
        let verify = [
            0x00, 0x20, 0x00, 0x80, 0x08, b'1', b'2', b'3', b'4', b'5', b'6', 0xFF, 0xFF,
        ];
        assert_eq!(trace_hex(&verify), "0020008008 <secret>");
        let unblock = [[0x00, 0x2C, 0x00, 0x80, 0x10].as_slice(), &[0x31; 16]].concat();
        assert!(!trace_hex(&unblock).contains("31"));
        assert_eq!(trace_hex(&[0x00, 0xFD, 0x00, 0x00]), "00FD0000");
    }
}
