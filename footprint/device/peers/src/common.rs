//! What every peer binary shares: one ECDSA P-256 (SHA-256) verification of the same inputs,
//! counted (`../../src/counter.rs`: SysTick under QEMU's `-icount`), its stack high-water, and
//! the same signature with one bit of `s` flipped, which must be refused. Each binary hands in
//! its verifier as a closure over (message, `r || s`); the inputs are Wycheproof's
//! `ecdsa_secp256r1_sha256_p1363` test case 1 (a valid signature), typed in below.

use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hprintln;

#[path = "../../src/counter.rs"]
mod counter;

use counter::Counter;

/// The public key, uncompressed SEC1.
pub(crate) const KEY: [u8; 65] = hex("042927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838\
     c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e");
/// The message (its SHA-256 is what is signed): "123400".
pub(crate) const MESSAGE: &[u8] = &hex::<6>("313233343030");
/// The signature, `r || s`.
pub(crate) const SIGNATURE: [u8; 64] = hex("2ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e18\
     4cd60b855d442f5b3c7b11eb6c4e0ae7525fe710fab9aa7c77a67f79e6fadd76");

/// Hex digits to bytes, at compile time (a bad digit or length fails the build).
const fn hex<const N: usize>(text: &str) -> [u8; N] {
    let digits = text.as_bytes();
    assert!(digits.len() == 2 * N, "two hex digits a byte");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = nibble(digits[2 * i]) << 4 | nibble(digits[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => panic!("not a hex digit"),
    }
}

/// Runs the verification: prints `name`, the verdicts, the instruction count and the stack, and
/// exits with failure unless the genuine signature verifies and the tampered one does not.
pub(crate) fn run(name: &str, verify: impl Fn(&[u8], &[u8; 64]) -> bool) -> ! {
    let ok = measure(name, &verify);
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    loop {
        cortex_m::asm::wfi();
    }
}

fn measure(name: &str, verify: &impl Fn(&[u8], &[u8; 64]) -> bool) -> bool {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        hprintln!("error: core peripherals already taken");
        return false;
    };
    let mut counter = Counter::new(peripherals.SYST);
    counter.calibrate();
    let free = cortex_m_stack::current_stack_free();
    cortex_m_stack::repaint_stack();
    let (genuine, instructions) = counter.count(|| verify(MESSAGE, &SIGNATURE));
    let stack = free.saturating_sub(cortex_m_stack::stack_painted());
    let mut tampered = SIGNATURE;
    if let Some(byte) = tampered.last_mut() {
        *byte ^= 1;
    }
    let refused = !verify(MESSAGE, &tampered);
    let good = genuine && refused && instructions.is_some();
    hprintln!(
        "{} {} genuine={} tampered_refused={} instructions={} stack={}",
        if good { "PASS" } else { "FAIL" },
        name,
        genuine,
        refused,
        instructions.map_or(0, |n| n),
        stack
    );
    good
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
