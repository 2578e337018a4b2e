//! pomerium-jwt with `Window::W6` tables of `G` and of the key (2 × 88,064 B of `.bss`), alone in
//! its build: `PrecomputedKey::verify_es256`. The tables are built before the count starts.

#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

use cortex_m_rt::entry;
use pomerium_jwt::{BaseTable, PrecomputedKey, PublicKey, TableEntry, Window};
use static_cell::StaticCell;

const ENTRIES: usize = Window::W6.entries();
static G_TABLE: StaticCell<[TableEntry; ENTRIES]> = StaticCell::new();
static Q_TABLE: StaticCell<[TableEntry; ENTRIES]> = StaticCell::new();

#[entry]
fn main() -> ! {
    let name = "ours-w6";
    let (Some(g), Some(q)) =
        (G_TABLE.try_init([TableEntry::EMPTY; ENTRIES]), Q_TABLE.try_init([TableEntry::EMPTY; ENTRIES]))
    else {
        common::run(name, |_, _| false)
    };
    let Ok(key) = PublicKey::from_sec1(&common::KEY) else { common::run(name, |_, _| false) };
    let fast = BaseTable::generator(Window::W6, g)
        .and_then(|g| PrecomputedKey::new(key, BaseTable::for_key(&key, Window::W6, q)?, g));
    let Ok(fast) = fast else { common::run(name, |_, _| false) };
    common::run(name, |message, signature| fast.verify_es256(message, signature).is_ok())
}
