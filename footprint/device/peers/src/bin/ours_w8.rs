//! pomerium-jwt with `Window::W8` tables of `G` and of the key (2 × 270,336 B of `.bss`), alone in
//! its build: `PrecomputedKey::verify_es256`. The tables are built before the count starts.

#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

use cortex_m_rt::entry;
use pomerium_jwt::{BaseTable, PrecomputedKey, PublicKey, TableEntry, Window};
use static_cell::StaticCell;

const ENTRIES: usize = Window::W8.entries();
static G_TABLE: StaticCell<[TableEntry; ENTRIES]> = StaticCell::new();
static Q_TABLE: StaticCell<[TableEntry; ENTRIES]> = StaticCell::new();

#[entry]
fn main() -> ! {
    let name = "ours-w8";
    let (Some(g), Some(q)) =
        (G_TABLE.try_init([TableEntry::EMPTY; ENTRIES]), Q_TABLE.try_init([TableEntry::EMPTY; ENTRIES]))
    else {
        common::run(name, |_, _| false)
    };
    let Ok(key) = PublicKey::from_sec1(&common::KEY) else { common::run(name, |_, _| false) };
    let fast = BaseTable::generator(Window::W8, g)
        .and_then(|g| PrecomputedKey::new(key, BaseTable::for_key(&key, Window::W8, q)?, g));
    let Ok(fast) = fast else { common::run(name, |_, _| false) };
    common::run(name, |message, signature| fast.verify_es256(message, signature).is_ok())
}
