// SPDX-License-Identifier: GPL-2.0
/* refuse_live.so: makes libbpf's test runs with BPF_F_TEST_XDP_LIVE_FRAMES fail
 * with EPERM, as some builds of this machine's kernel do, for a program run
 * with LD_PRELOAD=refuse_live.so. The tests use it to take xdp_send's real
 * probe-and-fallback path on kernels that take live frames (XDP_SEND_REFUSE
 * stops xdp_send before its probe). Other test runs go through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <bpf/bpf.h>

int bpf_prog_test_run_opts(int prog_fd, struct bpf_test_run_opts *opts)
{
	int (*real)(int, struct bpf_test_run_opts *);

	if (opts && opts->flags & BPF_F_TEST_XDP_LIVE_FRAMES) {
		errno = EPERM;
		return -EPERM;
	}
	real = (int (*)(int, struct bpf_test_run_opts *))dlsym(RTLD_NEXT,
								"bpf_prog_test_run_opts");
	if (!real) {
		errno = ENOSYS;
		return -ENOSYS;
	}
	return real(prog_fd, opts);
}
