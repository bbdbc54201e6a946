//! Any bytes as the answer to a long-poll, read as a lane reads it
//! (`ilink-http`'s own HTTP/1.1 response reader): a response or a typed
//! error, never a panic; the same status, body or error kind whatever the
//! sizes of the reads that deliver the bytes; a success body never longer
//! than the limit.
#![no_main]

use ilink_http::fuzzing::read_response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the limit, the next two the read sizes.
    let [limit, a, b, rest @ ..] = data else {
        return;
    };
    let limit = u64::from(*limit) * 64;
    let whole = read_response(rest, &[], limit);
    let sizes = [usize::from(*a).max(1), usize::from(*b).max(1)];
    let split = read_response(rest, &sizes, limit);
    match (&whole, &split) {
        (Ok(x), Ok(y)) => {
            assert_eq!((x.status, &x.body), (y.status, &y.body));
            if (200..300).contains(&x.status) {
                assert!(x.body.len() as u64 <= limit);
            }
        }
        (Err(x), Err(y)) => assert_eq!(x.kind(), y.kind()),
        _ => panic!("whole {whole:?} against split {split:?}"),
    }
});
