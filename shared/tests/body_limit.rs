//! The size limit comes before anything else: a body over 256 KiB is refused (413) before it
//! is parsed, looked up or authenticated, so an oversized body costs no memory beyond itself.
//! Measured with a counting allocator, in its own test binary (the only test in it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bridge_testkit::*;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[tokio::test]
async fn an_oversized_body_is_refused_before_it_is_parsed() {
    let fakes = Fakes::start().await;
    let (deps, _) = fakes.deps_with_memory_map();
    // 6 MB of small JSON values: parsed, each would be a 32-byte value and more.
    let mut body = String::from(r#"{"type":"INSTALL","locationId":"x","pad":["#);
    while body.len() < 6_000_000 {
        body.push_str("1,");
    }
    body.push_str("1]}");
    let body_len = body.len();
    for route in [
        "/api/ghl-webhooks/new-contact",
        "/api/ghl-webhooks/app-install",
        "/api/cloudtalk-webhooks/loc_x/call-ended",
    ] {
        for signed in [false, true] {
            let mut req = post(route, &body, Some(GHL_SECRET));
            if signed {
                req.headers_mut()
                    .insert("x-ghl-signature", "c2ln".parse().unwrap());
            }
            let baseline = CURRENT.load(Ordering::SeqCst);
            PEAK.store(baseline, Ordering::SeqCst);
            let res = bridge::route(&deps, req).await;
            let grown = PEAK.load(Ordering::SeqCst) - baseline;
            assert_eq!(res.status(), 413, "{route}");
            assert!(
                grown < body_len / 4,
                "{route}: refusing a {body_len}-byte body took {grown} more bytes"
            );
        }
    }
    assert!(received(&fakes.ghl).await.is_empty());
    assert!(received(&fakes.cloudtalk).await.is_empty());
}
