//! Makes the calls of `../calls.py` (one per line on stdin) on the pomerium-jwt WebAssembly
//! module in wasmi, the WebAssembly interpreter that constrained hosts embed (no JIT, no
//! executable memory), and answers each with one line on stdout; see `../calls.py`.
//!
//! ```sh
//! cargo run --release --locked -- MODULE.wasm < calls.txt > answers.txt
//! ```

use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wasmi::{Engine, Instance, Linker, Memory, Module, Store, TypedFunc};

type Error = Box<dyn std::error::Error>;

/// The module's exports, as the host calls them.
struct Abi {
    store: Store<()>,
    memory: Memory,
    input_ptr: TypedFunc<(), u32>,
    output_ptr: TypedFunc<(), u32>,
    output_len: TypedFunc<(), u32>,
    load_keys: TypedFunc<u32, i32>,
    add_keys: TypedFunc<u32, i32>,
    set_audience: TypedFunc<u32, i32>,
    set_issuer: TypedFunc<u32, i32>,
    set_leeway: TypedFunc<u64, i32>,
    verify: TypedFunc<(u32, u64), i32>,
}

impl Abi {
    fn new(wasm: &[u8]) -> Result<Self, Error> {
        let engine = Engine::default();
        let module = Module::new(&engine, wasm)?;
        let mut store = Store::new(&engine, ());
        // The module imports nothing, so the linker is empty.
        let instance: Instance = Linker::<()>::new(&engine).instantiate_and_start(&mut store, &module)?;
        let memory = instance.get_memory(&store, "memory").ok_or("no memory export")?;
        Ok(Abi {
            memory,
            input_ptr: instance.get_typed_func(&store, "input_ptr")?,
            output_ptr: instance.get_typed_func(&store, "output_ptr")?,
            output_len: instance.get_typed_func(&store, "output_len")?,
            load_keys: instance.get_typed_func(&store, "load_keys")?,
            add_keys: instance.get_typed_func(&store, "add_keys")?,
            set_audience: instance.get_typed_func(&store, "set_audience")?,
            set_issuer: instance.get_typed_func(&store, "set_issuer")?,
            set_leeway: instance.get_typed_func(&store, "set_leeway")?,
            verify: instance.get_typed_func(&store, "verify")?,
            store,
        })
    }

    /// Copies `bytes` into the input area; returns their length, the argument of the call.
    fn put(&mut self, bytes: &[u8]) -> Result<u32, Error> {
        let at = self.input_ptr.call(&mut self.store, ())?;
        self.memory.write(&mut self.store, usize::try_from(at)?, bytes)?;
        Ok(u32::try_from(bytes.len())?)
    }

    /// The last call's result document.
    fn output(&mut self) -> Result<Vec<u8>, Error> {
        let at = self.output_ptr.call(&mut self.store, ())?;
        let len = self.output_len.call(&mut self.store, ())?;
        let mut out = vec![0; usize::try_from(len)?];
        self.memory.read(&self.store, usize::try_from(at)?, &mut out)?;
        Ok(out)
    }

    /// One call of the form `NAME(len)` on `bytes`.
    fn with_input(&mut self, call: &str, bytes: &[u8]) -> Result<i32, Error> {
        let len = self.put(bytes)?;
        let func = match call {
            "load_keys" => self.load_keys,
            "add_keys" => self.add_keys,
            "set_audience" => self.set_audience,
            "set_issuer" => self.set_issuer,
            _ => return Err(format!("unknown call {call}").into()),
        };
        Ok(func.call(&mut self.store, len)?)
    }

    fn verify(&mut self, token: &[u8], now: u64) -> Result<i32, Error> {
        let len = self.put(token)?;
        Ok(self.verify.call(&mut self.store, (len, now))?)
    }
}

fn from_hex(text: &str) -> Result<Vec<u8>, Error> {
    if text == "-" {
        return Ok(Vec::new());
    }
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits.chunks_exact(2).map(|pair| Ok(u8::from_str_radix(std::str::from_utf8(pair)?, 16)?)).collect()
}

fn to_hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".to_owned();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(wasm_path: &str) -> Result<(), Error> {
    let mut abi = Abi::new(&std::fs::read(wasm_path)?)?;
    let mut calls = String::new();
    io::stdin().read_to_string(&mut calls)?;
    let mut out = String::new();
    for line in calls.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let field = |i: usize| fields.get(i).copied().ok_or_else(|| format!("short line: {line}"));
        let call = field(0)?;
        let status = match call {
            "set_leeway" => abi.set_leeway.call(&mut abi.store, field(1)?.parse::<u64>()?)?,
            "verify" => abi.verify(&from_hex(field(1)?)?, field(2)?.parse()?)?,
            "bench" => {
                let budget = Duration::from_millis(field(1)?.parse()?);
                let token = from_hex(field(2)?)?;
                let now: u64 = field(3)?.parse()?;
                let (mut rounds, mut status) = (0u32, 0);
                let started = Instant::now();
                while rounds < 3 || started.elapsed() < budget {
                    status = abi.verify(&token, now)?;
                    rounds += 1;
                }
                out.push_str(&format!("bench {status} {rounds} {}\n", started.elapsed().as_nanos()));
                continue;
            }
            _ => abi.with_input(call, &from_hex(field(1)?)?)?,
        };
        let output = abi.output()?;
        out.push_str(&format!("{call} {status} {}\n", to_hex(&output)));
    }
    io::stdout().write_all(out.as_bytes())?;
    Ok(())
}

fn main() -> ExitCode {
    let Some(wasm_path) = std::env::args().nth(1) else {
        eprintln!("usage: pomerium-jwt-wasmi-host MODULE.wasm < calls.txt");
        return ExitCode::from(2);
    };
    match run(&wasm_path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasmi host: {e}");
            ExitCode::FAILURE
        }
    }
}
