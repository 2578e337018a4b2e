//! pomerium-jwt with the generator's `Window::W4` table computed at compile time (a `static`,
//! 33,280 B of flash: the feature `const-generator-w4`) and the key's `Window::W4` table in RAM
//! (33,280 B of `.bss`), alone in its build: `PrecomputedKey::verify_es256`. The key's table is
//! built before the count starts; the generator's takes no building.

#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

use cortex_m_rt::entry;
use pomerium_jwt::{BaseTable, PrecomputedKey, PublicKey, TableEntry, Window};
use static_cell::StaticCell;

const ENTRIES: usize = Window::W4.entries();
static Q_TABLE: StaticCell<[TableEntry; ENTRIES]> = StaticCell::new();

#[entry]
fn main() -> ! {
    let name = "ours-flash-g4-ram-q4";
    let (Some(g), Some(q)) =
        (BaseTable::compiled_generator(Window::W4), Q_TABLE.try_init([TableEntry::EMPTY; ENTRIES]))
    else {
        common::run(name, |_, _| false)
    };
    let Ok(key) = PublicKey::from_sec1(&common::KEY) else { common::run(name, |_, _| false) };
    let fast = BaseTable::for_key(&key, Window::W4, q).and_then(|q| PrecomputedKey::new(key, q, g));
    let Ok(fast) = fast else { common::run(name, |_, _| false) };
    common::run(name, |message, signature| fast.verify_es256(message, signature).is_ok())
}
