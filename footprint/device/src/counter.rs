//! Instruction counts, from SysTick under QEMU's `-icount shift=0`.
//!
//! QEMU models neither the Cortex-M4's cycle timing nor the DWT cycle counter, and Debian's
//! QEMU ships no TCG plugins. With `-icount shift=0` its virtual clock advances exactly 1 ns per
//! executed instruction, and SysTick on the processor clock (25 MHz on the MPS2 boards) counts
//! that virtual time, so a tick is a fixed number of instructions. The number is not assumed:
//! [`Counter::calibrate`] times a loop of known length (`cortex_m::asm::delay`, two
//! instructions per turn) and every count is converted with that measured ratio. Resolution:
//! one tick (40 instructions on this board).

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;

/// SysTick's counter is 24 bits.
const RELOAD: u32 = 0x00FF_FFFF;
/// Turns of the calibration loop: 2,000,002 instructions (a `subs` and a `bne` per turn, and
/// one turn more than asked).
const CALIBRATION_TURNS: u32 = 1_000_000;

/// The measured ratio: `instructions` took `ticks`.
#[derive(Clone, Copy)]
pub(crate) struct Calibration {
    pub(crate) instructions: u64,
    pub(crate) ticks: u64,
}

pub(crate) struct Counter {
    syst: SYST,
    calibration: Option<Calibration>,
}

impl Counter {
    /// Starts SysTick free-running on the processor clock, without its interrupt.
    pub(crate) fn new(mut syst: SYST) -> Self {
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_counter();
        Counter { syst, calibration: None }
    }

    /// Runs `f` and returns its result with the SysTick ticks it took, or `None` when the
    /// counter wrapped (more than 2^24 ticks) and the count is unknown.
    fn ticks<R>(&mut self, f: impl FnOnce() -> R) -> (R, Option<u64>) {
        // Restart from the top and clear COUNTFLAG, so a wrap during `f` is seen.
        self.syst.clear_current();
        while SYST::get_current() == 0 {}
        let _ = self.syst.has_wrapped();
        let start = SYST::get_current();
        let result = f();
        let end = SYST::get_current();
        let ticks = if self.syst.has_wrapped() { None } else { start.checked_sub(end).map(u64::from) };
        (result, ticks)
    }

    /// Times the known loop; later counts are converted with this ratio.
    pub(crate) fn calibrate(&mut self) -> Calibration {
        let ((), ticks) = self.ticks(|| cortex_m::asm::delay(CALIBRATION_TURNS - 1));
        let calibration = Calibration { instructions: 2 * u64::from(CALIBRATION_TURNS), ticks: ticks.unwrap_or(0) };
        self.calibration = Some(calibration).filter(|c| c.ticks > 0);
        calibration
    }

    /// Runs `f` and returns its result with the instructions it executed, or `None` when the
    /// counter is not calibrated or wrapped.
    pub(crate) fn count<R>(&mut self, f: impl FnOnce() -> R) -> (R, Option<u64>) {
        let (result, ticks) = self.ticks(f);
        let instructions = match (ticks, self.calibration) {
            (Some(ticks), Some(c)) => ticks.checked_mul(c.instructions).and_then(|n| n.checked_div(c.ticks)),
            _ => None,
        };
        (result, instructions)
    }
}
