//! The wasm32 global allocator: lol_alloc's free-list allocator instead of std's dlmalloc.
//!
//! Why: dlmalloc is ≈8 KB of the wasm; this one is under 1 KB (measured: −7.7 KB raw, −2.4 KB
//! brotli). The banner's heap is small (one config, a few dozen DOM handles and strings), so a
//! first-fit free list is fast enough. It is sound for a page-lifetime program: freed blocks go
//! back on an address-ordered list and adjacent free blocks are coalesced, so repeated
//! alloc/free cycles (each DOM-mutation rescan) reuse memory instead of growing it.
//! `realloc` is GlobalAlloc's default (allocate, copy, free), which is correct for any layout.
//!
//! `LockedAllocator` (a spin lock that never contends on single-threaded wasm) makes the static
//! `Sync` without any `unsafe` here, so the crate keeps `#![forbid(unsafe_code)]`.

#[global_allocator]
static ALLOC: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
