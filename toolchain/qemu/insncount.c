/*
 * insncount: a QEMU user-mode TCG plugin that counts executed guest instructions, exactly.
 *
 *   qemu-arm -cpu arm1176 -plugin build/qemu/libinsncount.so,outfile=/tmp/n.txt[,count=insn|tb][,marker=NR][,stages=FILE] prog
 *
 * At exit it writes `@@qemu-insns <count>` to outfile (never to the guest's stdout/stderr). With marker=NR the
 * guest can bracket a region: syscall(NR, 1) opens a window, syscall(NR, 0) closes it, and a second line
 * `@@qemu-insns-marked <count> <windows>` adds up the instructions inside closed windows. Choose NR above the
 * kernel's syscall table and below the ARM private range (0xf0000): Linux and qemu-user both answer such a
 * number with ENOSYS and no other effect, so a measurement build runs unchanged on a real board.
 *
 * With stages=FILE (count=insn only) every instruction is also counted against the stage whose address range
 * holds it: FILE has one line per range, `START SIZE NAME` (hexadecimal start and size, a name of at most 31
 * characters; at most 15 names), typically the functions of the program by the part they belong to (from the
 * linker's map). Instructions in no range count as `rest`. At exit one line per stage follows the total:
 * `@@qemu-insns-stage NAME <count>`; the stages add up to the total. The stage is decided when QEMU translates
 * an instruction, so it costs nothing more while the code runs.
 *
 * Exactness. QEMU runs guest code as translation blocks (TBs): straight-line runs that end at a branch, a
 * syscall or an instruction that must raise an exception. Two ways to count:
 *  - count=tb: one inline add of the TB's instruction count when the TB is entered. Exact when every TB
 *    runs to its end. It overcounts when a TB is left midway: a guest memory fault (SIGSEGV, or SIGBUS for
 *    an unaligned doubleword/VFP access, delivered to the guest), or a store into a page holding translated
 *    code, which makes QEMU invalidate the TB and restart from that instruction.
 *  - count=insn (default): one inline add before each instruction. An instruction is counted when it starts,
 *    so an early exit counts exactly the instructions that ran, the faulting one included (as the CPU
 *    attempted it). The one residue is a restart (the self-modifying-code case above, or an instruction QEMU
 *    re-runs exclusively because the host lacks a matching atomic, which x86-64 does not for a 32-bit guest):
 *    the restarted instruction is counted twice. Both are properties of the program and its input, not of
 *    timing, so the count stays identical from run to run.
 * It costs more host code per instruction than count=tb (the test measures both and they agree on code that
 * does not fault). What can still vary between runs is the guest's own behaviour: asynchronous signals,
 * timers, wall-clock reads, poll timeouts.
 *
 * Threads: in user mode each guest thread is a vCPU running on its own host thread, and inline adds are not
 * atomic, so concurrent threads can lose counts. The plugin counts vCPUs and, if more than one ran, adds
 * `@@qemu-insns-vcpus <n>` so the caller can refuse the figure. fieldcam-runtime is single-threaded.
 * A forked child inherits the plugin but does not write the file (only the process that loaded it does).
 *
 * Errors (bad arguments, an unwritable outfile) go to stderr: qemu_plugin_outs() would be silent, since it
 * writes to QEMU's log only under `-d plugin`. A normal run writes nothing there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin-abi.h"

FIELDCAM_EXPORT int qemu_plugin_version = FIELDCAM_QEMU_PLUGIN_API;

/* Incremented by code QEMU generates; read only at syscalls and at exit, both on the counting thread. */
static uint64_t executed;

static const char *outfile;
static int per_tb;
static int64_t marker_nr = -1; /* -1: no marker syscall */
static uint64_t window_start;
static int window_open;
static uint64_t marked;
static uint64_t windows;
static unsigned int vcpus;
static pid_t owner;

/* stages=FILE: address ranges sorted by start, each with its stage; counts per stage (the last one: rest). */
#define MAX_STAGES 16
struct range {
	uint64_t start, end;
	unsigned int stage;
};
static struct range *ranges;
static size_t range_count;
static char stage_names[MAX_STAGES][32];
static unsigned int stage_count;
static uint64_t stage_executed[MAX_STAGES];

static int by_start(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static unsigned int stage_index(const char *name)
{
	for (unsigned int i = 0; i < stage_count; i++)
		if (strcmp(stage_names[i], name) == 0) return i;
	if (stage_count == MAX_STAGES - 1) return MAX_STAGES; /* the last slot is kept for rest */
	snprintf(stage_names[stage_count], sizeof(stage_names[0]), "%s", name);
	return stage_count++;
}

/* Reads FILE; 0 on success, else prints why and returns 1. */
static int read_stages(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "insncount: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	size_t capacity = 0;
	unsigned long long start, size;
	char name[32];
	int fields;
	while ((fields = fscanf(f, "%llx %llx %31s", &start, &size, name)) == 3) {
		unsigned int stage = stage_index(name);
		if (stage == MAX_STAGES) {
			fprintf(stderr, "insncount: %s: more than %d stage names\n", path, MAX_STAGES - 1);
			fclose(f);
			return 1;
		}
		if (range_count == capacity) {
			capacity = capacity ? 2 * capacity : 4096;
			struct range *grown = realloc(ranges, capacity * sizeof(*ranges));
			if (!grown) {
				fprintf(stderr, "insncount: out of memory reading %s\n", path);
				fclose(f);
				return 1;
			}
			ranges = grown;
		}
		ranges[range_count++] = (struct range){ start, start + size, stage };
	}
	int bad = fields != EOF || ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "insncount: %s: line %zu is not `START SIZE NAME` (hexadecimal)\n", path, range_count + 1);
		return 1;
	}
	snprintf(stage_names[stage_count++], sizeof(stage_names[0]), "rest");
	qsort(ranges, range_count, sizeof(*ranges), by_start);
	return 0;
}

/* The stage of an address: the last range starting at or before it, if it ends after it; else rest. */
static unsigned int stage_of(uint64_t vaddr)
{
	size_t lo = 0, hi = range_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ranges[mid].start <= vaddr) lo = mid + 1;
		else hi = mid;
	}
	if (lo > 0 && vaddr < ranges[lo - 1].end) return ranges[lo - 1].stage;
	return stage_count - 1;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	size_t n = qemu_plugin_tb_n_insns(tb);
	if (per_tb) {
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
		if (stage_count)
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
			                                           &stage_executed[stage_of(qemu_plugin_insn_vaddr(insn))], 1);
	}
}

/*
 * Called when the guest enters a syscall, after the syscall instruction was counted. A window therefore
 * holds the instructions after the opening syscall up to and including the closing one.
 */
static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2,
                       uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8)
{
	(void)id, (void)vcpu_index, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
	if (num != marker_nr) return;
	if (a1 == 1 && !window_open) {
		window_open = 1;
		window_start = executed;
	} else if (a1 == 0 && window_open) {
		window_open = 0;
		marked += executed - window_start;
		windows++;
	}
}

static void on_vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index)
{
	(void)id, (void)vcpu_index;
	__atomic_add_fetch(&vcpus, 1, __ATOMIC_RELAXED);
}

static void write_count(qemu_plugin_id_t id, void *userdata)
{
	(void)id, (void)userdata;
	if (getpid() != owner) return;
	FILE *f = fopen(outfile, "w");
	if (!f) {
		fprintf(stderr, "insncount: cannot write %s: %s\n", outfile, strerror(errno));
		return;
	}
	fprintf(f, "@@qemu-insns %" PRIu64 "\n", executed);
	if (marker_nr >= 0) fprintf(f, "@@qemu-insns-marked %" PRIu64 " %" PRIu64 "\n", marked, windows);
	for (unsigned int i = 0; i < stage_count; i++) fprintf(f, "@@qemu-insns-stage %s %" PRIu64 "\n", stage_names[i], stage_executed[i]);
	if (vcpus > 1) fprintf(f, "@@qemu-insns-vcpus %u\n", vcpus);
	if (fclose(f) != 0) fprintf(stderr, "insncount: writing %s failed\n", outfile);
}

static int refuse(const char *what, const char *arg)
{
	fprintf(stderr, "insncount: %s: %s (arguments: outfile=PATH[,count=insn|tb][,marker=NR][,stages=FILE])\n", what, arg);
	return 1;
}

FIELDCAM_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	if (info->system_emulation) return refuse("user mode only", info->target_name);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "outfile=", 8) == 0 && arg[8]) {
			outfile = arg + 8;
		} else if (strcmp(arg, "count=insn") == 0) {
			per_tb = 0;
		} else if (strcmp(arg, "count=tb") == 0) {
			per_tb = 1;
		} else if (strncmp(arg, "marker=", 7) == 0) {
			char *end;
			errno = 0;
			long long nr = strtoll(arg + 7, &end, 0);
			if (errno || end == arg + 7 || *end || nr < 0 || nr >= 0xf0000) return refuse("bad marker", arg);
			marker_nr = nr;
		} else if (strncmp(arg, "stages=", 7) == 0 && arg[7]) {
			if (read_stages(arg + 7)) return 1;
		} else {
			return refuse("unknown argument", arg);
		}
	}
	if (!outfile) return refuse("missing argument", "outfile=PATH");
	if (stage_count && per_tb) return refuse("stages need count=insn", "count=tb");
	owner = getpid();
	qemu_plugin_register_vcpu_init_cb(id, on_vcpu_init);
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	if (marker_nr >= 0) qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
	qemu_plugin_register_atexit_cb(id, write_count, NULL);
	return 0;
}
