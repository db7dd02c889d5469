// File: cmake/jemalloc_options.cc
//
// The options every traceledger binary linked with jemalloc (TL_JEMALLOC: tl_cc_binary and
// tl_cc_benchmark, not the tests) gives it. jemalloc reads the executable's `malloc_conf` when
// it starts; MALLOC_CONF in the environment still overrides it (e.g. MALLOC_CONF=thp:never).
//
// thp:always: jemalloc asks the kernel for transparent huge pages (madvise MADV_HUGEPAGE) on
// the memory it maps. Applying a batch of entries to the views probes structures far larger
// than the cache at random (the batch's pending rows, the views' key filters, RocksDB's block
// cache); with 4 KiB pages such a probe is nearly always a TLB miss too, and in a virtual
// machine a TLB miss walks two page tables. Measured with projection_bench at 10 M events
// (docs/BENCHMARKS.md, "session 23"): both variants at the same time, CPU of the build 29.1
// against 30.6 us per entry and of the rebuild 26.5 against 28.2 (-5 %, -6 %); alone, one
// run each, rebuild 23.3 against 26.1. At 1 M events, where those structures are smaller, no
// difference. A kernel whose transparent_hugepage setting is "never" ignores the request.
// metadata_thp:auto: jemalloc's own metadata too, once it is large.
//
// dirty_decay_ms:-1: memory freed is kept by jemalloc for reuse, not given back to the system
// as it ages (by default, over 10 s). A catch-up of the views allocates and frees hundreds of MB
// per batch (decoded events and their strings, table-file builders), a batch apart; given back,
// the next batch faulted the pages in again, zeroed, and on a virtual machine whose balloon
// reports free pages to the host (this one) the host faulted them in too. The projection
// runner gives the memory back explicitly when a catch-up of more than a batch ends
// (projections/runner.cc, GiveBackFreedMemory); otherwise a process's memory stays at the
// most it has used. 10 M events, both at the same time (docs/BENCHMARKS.md, "session 24"):
// CPU of the build 24.1 against 25.2 us per entry (-4 %), of the rebuild 19.7 against 21.8
// (-10 %), peak RSS 4.81 against 3.87 GB.
extern "C" {
// NOLINTNEXTLINE: the name jemalloc looks for.
const char* malloc_conf = "thp:always,metadata_thp:auto,dirty_decay_ms:-1";
}
