//! `pomerium-jwt` on a Cortex-M4 (QEMU's `mps2-an386` board): verifies real tokens, reports
//! each verdict and what one verification costs, and exits non-zero if any verdict is wrong.
//!
//! A `no_std`, `no_main` program with no global allocator (so neither the library nor anything
//! it depends on can link `alloc`), on cortex-m-rt, talking to the host through semihosting.
//! Each case of `src/cases.rs` (fixtures of tests/data/tokens.json) is verified twice: on the
//! plain path (`Verifier` over a `KeySet` of `PublicKey`s) and on the precomputed one (the same
//! keys as `PrecomputedKey`s with `Window::W4` tables, the smallest window). For every
//! verification it prints the verdict, the instruction count (SysTick under QEMU's `-icount`,
//! see `counter.rs`) and the stack high-water beyond the caller's frame (by painting). The last
//! line is `N passed, M failed`; `run.sh` builds, runs and checks it.

#![no_std]
#![no_main]

mod cases;
mod counter;
mod wycheproof;

use core::panic::PanicInfo;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hprintln;
use pomerium_jwt::{
    BaseTable, Buffers, Capacity, Claims, Error, Es256Key, KeySet, PrecomputedKey, TableEntry, UnixTime, Verifier,
    Window,
};
use static_cell::StaticCell;

use cases::{CASES, Case, KeyForm};
use counter::Counter;

/// The window of both precomputed tables: the smallest, 35,360 bytes per table on this 32-bit
/// target (520 points of 68 bytes).
const WINDOW: Window = Window::W4;
const ENTRIES: usize = WINDOW.entries();
/// Keys per key set: every case's key file holds one key, and there is one table for it.
const KEYS: usize = 1;

/// The table of `G`, shared by every key, and the table of the case's key `Q`: statics in
/// `.bss` (not on the stack, not in flash), handed out once as `&'static mut` by `StaticCell`.
static G_TABLE: StaticCell<[TableEntry; ENTRIES]> = StaticCell::new();
static Q_TABLE: StaticCell<[TableEntry; ENTRIES]> = StaticCell::new();

/// What one verification gave and cost.
struct Measured {
    verdict: &'static str,
    /// Whether the verified claims match the fixture's (always true for a refusal).
    claims_match: bool,
    instructions: Option<u64>,
    stack: u32,
}

#[entry]
fn main() -> ! {
    let status = if run() { EXIT_SUCCESS } else { EXIT_FAILURE };
    debug::exit(status);
    // Only reached outside a semihosting host.
    loop {
        cortex_m::asm::wfi();
    }
}

/// Runs every case on both paths; true when every verdict is the expected one.
fn run() -> bool {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        hprintln!("error: core peripherals already taken");
        return false;
    };
    let mut counter = Counter::new(peripherals.SYST);
    let calibration = counter.calibrate();
    hprintln!(
        "calibration: {} instructions of a counted loop took {} SysTick ticks",
        calibration.instructions,
        calibration.ticks
    );
    hprintln!(
        "window: {:?}, {} bytes per table; buffers: {} bytes; stack: {} bytes",
        WINDOW,
        core::mem::size_of::<[TableEntry; ENTRIES]>(),
        core::mem::size_of::<Buffers<2048, 16>>(),
        cortex_m_stack::stack_size()
    );

    let (Some(g_storage), Some(q_storage)) =
        (G_TABLE.try_init([TableEntry::EMPTY; ENTRIES]), Q_TABLE.try_init([TableEntry::EMPTY; ENTRIES]))
    else {
        hprintln!("error: the tables were already handed out");
        return false;
    };
    let (generator, instructions) = counter.count(|| BaseTable::generator(WINDOW, g_storage));
    let Ok(generator) = generator else {
        hprintln!("error: building the table of G failed");
        return false;
    };
    hprintln!("table G: {} instructions", Shown(instructions));

    let mut buffers = Buffers::<2048, 16>::new();
    let (mut passed, mut failed) = (0u32, 0u32);
    for case in CASES {
        let mut keys = KeySet::<KEYS>::new();
        let loaded = match case.key_form {
            KeyForm::Jwks => keys.add_jwks(case.key),
            KeyForm::Jwk => keys.add_jwk(case.key),
        };
        if let Err(error) = loaded {
            hprintln!("FAIL {}: key file {} refused: {}", case.name, case.key_file, error);
            failed += 1;
            continue;
        }

        let plain = measure(case, &keys, &mut buffers, &mut counter);
        report(case, "plain", &plain, &mut passed, &mut failed);

        let mut storage = Some(&mut q_storage[..]);
        let (fast, instructions) = counter.count(|| {
            keys.precompute(|key| {
                let mine = storage.take().ok_or(Error::Capacity(Capacity::Keys))?;
                PrecomputedKey::new(*key, BaseTable::for_key(key, WINDOW, mine)?, generator)
            })
        });
        match fast {
            Ok(fast) => {
                hprintln!("table Q {}: {} instructions", case.name, Shown(instructions));
                let precomputed = measure(case, &fast, &mut buffers, &mut counter);
                report(case, "precomputed-w4", &precomputed, &mut passed, &mut failed);
            }
            Err(error) => {
                hprintln!("FAIL {}: precomputing the key failed: {}", case.name, error);
                failed += 1;
            }
        }
    }
    // Wycheproof's vectors, both paths, on the case's key table storage (free again by now).
    // Its line has the verdict fields run.sh reads: `expect=` the vector count, `got=` those
    // right on both paths (the count is not timed: 112 key tables overflow the counter).
    let outcome = wycheproof::run(generator, q_storage);
    let good = outcome.wrong == 0 && outcome.checked == wycheproof::VECTORS && outcome.checked > 0;
    hprintln!(
        "{} wycheproof plain+precomputed-w4 expect={} got={} ({} checked, {} wrong)",
        if good { "PASS" } else { "FAIL" },
        wycheproof::VECTORS,
        outcome.checked - outcome.wrong,
        outcome.checked,
        outcome.wrong
    );
    if good {
        passed += 1;
    } else {
        failed += 1;
    }
    hprintln!("{} passed, {} failed", passed, failed);
    failed == 0 && passed > 0
}

/// One verification of the case over `keys`, counted and with the stack painted around it.
fn measure<K: Es256Key>(
    case: &Case,
    keys: &KeySet<KEYS, K>,
    buffers: &mut Buffers<2048, 16>,
    counter: &mut Counter,
) -> Measured {
    let mut verifier = Verifier::new(keys, case.audience);
    if let Some(issuer) = case.issuer {
        verifier = verifier.with_issuer(issuer);
    }
    if let Some(leeway) = case.leeway {
        verifier = verifier.with_leeway(leeway);
    }
    let now = UnixTime::from_secs(case.now);

    // Everything below this frame's stack pointer is painted; what the call overwrites is its
    // high-water mark.
    let free = cortex_m_stack::current_stack_free();
    cortex_m_stack::repaint_stack();
    let (result, instructions) = counter.count(|| verifier.verify(case.token, now, buffers));
    let stack = free.saturating_sub(cortex_m_stack::stack_painted());

    let (verdict, claims_match) = match result {
        Ok(claims) => ("ok", matches(case, &claims)),
        Err(error) => (cases::kind(&error), true),
    };
    Measured { verdict, claims_match, instructions, stack }
}

/// Whether verified claims agree with the fixture's expected `sub` and `exp`.
fn matches(case: &Case, claims: &Claims<'_>) -> bool {
    case.claims.as_ref().is_some_and(|expected| claims.sub == expected.sub && claims.exp == expected.exp)
}

/// Prints one verification's line and counts it.
fn report(case: &Case, path: &str, m: &Measured, passed: &mut u32, failed: &mut u32) {
    let good = m.verdict == case.expect && m.claims_match && m.instructions.is_some();
    if good {
        *passed += 1;
    } else {
        *failed += 1;
    }
    hprintln!(
        "{} {} {} signer={} key={} expect={} got={}{} instructions={} stack={}",
        if good { "PASS" } else { "FAIL" },
        case.name,
        path,
        case.signer,
        case.key_file,
        case.expect,
        m.verdict,
        if m.claims_match { "" } else { " (claims differ)" },
        Shown(m.instructions),
        m.stack
    );
}

/// An instruction count, or `?` when the counter could not tell.
struct Shown(Option<u64>);

impl core::fmt::Display for Shown {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("?"),
        }
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
