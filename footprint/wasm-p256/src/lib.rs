//! The floor of footprint/wasm-verify: only the bare `p256` ECDSA P-256 / SHA-256 verification
//! of a message and a 64-byte signature, with the same key.

#![no_std]

use core::ptr::addr_of_mut;

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};

/// The key of tests/data/python/key1, as an uncompressed SEC1 point.
const KEY: [u8; 65] = [
    0x04, 0xfc, 0x29, 0x0e, 0xda, 0x1e, 0xb0, 0xb4, 0x67, 0x16, 0xe8, 0x8f, 0x5a, 0x39, 0xde, 0xa3, 0x1b, 0x49, 0xe8,
    0x8b, 0x79, 0xec, 0xff, 0xf1, 0x52, 0xea, 0x43, 0x6f, 0x65, 0xa6, 0x38, 0x82, 0xe5, 0xb8, 0xbe, 0xc4, 0x2f, 0x93,
    0x8f, 0x69, 0xb8, 0x0e, 0x82, 0xdb, 0x6b, 0x74, 0xd5, 0x5d, 0x9e, 0x0a, 0xdb, 0x32, 0x08, 0x27, 0xaa, 0xd2, 0x55,
    0x14, 0xfe, 0xb2, 0x76, 0x4b, 0x9b, 0x74, 0x8e,
];

/// Where the host writes the signature (64 bytes) and then the message before calling [`verify`].
static mut INPUT: [u8; 8192] = [0; 8192];

/// The address of the 8 KiB input area.
#[unsafe(no_mangle)]
pub extern "C" fn input() -> *mut u8 {
    addr_of_mut!(INPUT).cast()
}

/// Verifies the signature at [`input`] over the `len`-byte message after it. Returns 0 for a
/// valid signature, 1 for an invalid one, 2 for a bad key.
#[unsafe(no_mangle)]
pub extern "C" fn verify(len: usize) -> u32 {
    // SAFETY: INPUT is only read here, after the host wrote it; the module is single-threaded.
    let input = unsafe { &*addr_of_mut!(INPUT) };
    let (Some(signature), Some(message)) = (input.get(..64), input.get(64..64usize.saturating_add(len))) else {
        return 1;
    };
    #[cfg(not(feature = "coordinates"))]
    let Ok(key) = VerifyingKey::from_sec1_bytes(&KEY) else { return 2 };
    #[cfg(feature = "coordinates")]
    let Ok(key) = from_coordinates(&KEY) else { return 2 };
    let Ok(signature) = Signature::from_slice(signature) else { return 1 };
    u32::from(key.verify(message, &signature).is_err())
}

/// The key from the coordinates of an uncompressed SEC1 point, checked to be on the curve.
#[cfg(feature = "coordinates")]
fn from_coordinates(point: &[u8; 65]) -> Result<VerifyingKey, ()> {
    use p256::elliptic_curve::point::AffineCoordinates;
    let coordinate = |range| point.get(range).and_then(|c: &[u8]| p256::FieldBytes::try_from(c).ok()).ok_or(());
    let (x, y) = (coordinate(1..33)?, coordinate(33..65)?);
    let affine = Option::<p256::AffinePoint>::from(p256::AffinePoint::from_coordinates(&x, &y)).ok_or(())?;
    VerifyingKey::from_affine(affine).map_err(drop)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
