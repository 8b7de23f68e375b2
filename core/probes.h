// USDT probes (provider "libgreen"), the only channel between libgreen and
// ebpf/greenstat. An unattached probe is a single nop; arguments are
// registers already live at the call site.
//
// Contract (name: arguments), kept in sync with ebpf/ and README:
//   g_create : u64 gid, u64 parent_gid      a G was made runnable for the first time
//   g_exit   : u64 gid                      a G finished (before join/reclaim)
//   m_create : u32 m_id, u32 kernel_tid     an M (OS thread) started
//   handoff  : u32 p_id, u64 gid            a P left behind by a G in a syscall was handed to another M
//   steal    : u32 thief_p, u32 victim_p, u32 count
//   preempt  : u64 gid                      a running G was asked to yield
//   park     : u64 gid, u64 addr            a G parked on a wait address
//   ready    : u64 gid                      a parked G was made runnable
#pragma once
#include <sys/sdt.h>

#define GREEN_PROBE0(name) DTRACE_PROBE(libgreen, name)
#define GREEN_PROBE1(name, a) DTRACE_PROBE1(libgreen, name, a)
#define GREEN_PROBE2(name, a, b) DTRACE_PROBE2(libgreen, name, a, b)
#define GREEN_PROBE3(name, a, b, c) DTRACE_PROBE3(libgreen, name, a, b, c)
