/*
 * The part of QEMU's TCG plugin ABI that insncount.c uses, declared by us.
 *
 * Why our own: Debian bookworm ships no package with QEMU's plugin header (checked with `apt-get download`
 * + `dpkg -c` of qemu-user, qemu-user-static, qemu-system-{common,data,arm,x86,misc,gui}, qemu-block-extra,
 * qemu-utils: none contains an include file), and the project never vendors QEMU sources. A plugin is a
 * shared object that qemu-arm dlopen()s; it resolves these functions from the qemu-arm executable itself
 * (`nm -D /usr/bin/qemu-arm | grep qemu_plugin_` lists them), so declarations are all we need.
 *
 * Target: QEMU 7.2 (Debian 1:7.2+dfsg), plugin API version 1. The loader reads the plugin's exported int
 * `qemu_plugin_version` and refuses a plugin whose value is outside [info.min, info.cur]: Debian's 7.2
 * loads 0 and 1 and rejects 2 ("supports only up to version 1").
 * Every declaration below follows the documented 7.2 API (docs/devel/tcg-plugins and the API reference):
 * names, argument order and types, and enum values. Do not add a symbol without checking it exists in
 * the qemu-arm we run (nm -D), or the dlopen fails with an undefined symbol.
 */
#ifndef FIELDCAM_QEMU_PLUGIN_ABI_H
#define FIELDCAM_QEMU_PLUGIN_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIELDCAM_EXPORT __attribute__((visibility("default")))

/* The API version this plugin is written against (QEMU 7.2 implements version 1). */
#define FIELDCAM_QEMU_PLUGIN_API 1

/* Opaque handle QEMU gives each loaded plugin. */
typedef uint64_t qemu_plugin_id_t;

/* What QEMU tells the plugin at install time. Only valid during qemu_plugin_install(). */
typedef struct qemu_info_t {
	const char *target_name; /* guest architecture, "arm" for qemu-arm */
	struct {
		int min; /* oldest API version this QEMU accepts */
		int cur; /* newest API version this QEMU implements */
	} version;
	bool system_emulation; /* false under qemu-user */
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system; /* meaningful in system emulation only */
	};
} qemu_info_t;

/* Opaque: a translation block being translated, and one guest instruction inside it. */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

/* Inline operations QEMU emits straight into the generated code. 7.2 has exactly one. */
enum qemu_plugin_op {
	QEMU_PLUGIN_INLINE_ADD_U64 = 0, /* *(uint64_t *)ptr += imm, not atomic */
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_simple_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
/* Guest syscall entry (user mode): the number and the first eight argument registers. */
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num,
                                              uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                              uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8);

/* Exported by the plugin: its API version, and the entry point (return 0 to load, non-zero to refuse). */
extern FIELDCAM_EXPORT int qemu_plugin_version;
FIELDCAM_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);

/* Provided by QEMU. */
void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
/* The guest virtual address of an instruction (user mode: the program's own addresses, as `nm` lists them). */
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

#endif
