/** Constants named as the kernel names them (include/linux/mm.h, mm_types.h). */

// vm_flags
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_GROWSDOWN = 0x100;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

// enum fault_flag
export const FAULT_FLAG_WRITE = 0x1;
export const FAULT_FLAG_ALLOW_RETRY = 0x4;
export const FAULT_FLAG_KILLABLE = 0x10;
export const FAULT_FLAG_TRIED = 0x20;
export const FAULT_FLAG_USER = 0x40;
export const FAULT_FLAG_SPECULATIVE = 0x200;
/** The fault holds a VMA lock, not the mmap lock (6.4). */
export const FAULT_FLAG_VMA_LOCK = 0x1000;

// enum vm_fault_reason
export const VM_FAULT_OOM = 0x1;
export const VM_FAULT_SIGBUS = 0x2;
export const VM_FAULT_MAJOR = 0x4;
export const VM_FAULT_SIGSEGV = 0x40;
export const VM_FAULT_RETRY = 0x400;
export const VM_FAULT_COMPLETED = 0x4000;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;

// x86 page-fault error code bits (arch/x86/include/asm/trap_pf.h)
export const X86_PF_PROT = 0x1;
export const X86_PF_WRITE = 0x2;
export const X86_PF_USER = 0x4;

// PTE bits of the model's page-table entries (an entry is pfn << PTE_SHIFT | bits).
export const PTE_PRESENT = 0x1;
export const PTE_WRITE = 0x2;
export const PTE_DIRTY = 0x4;
/** powerpc hash MMU: the translation is in the hashed page table (H_PAGE_HASHPTE). */
export const PTE_HASHED = 0x8;
/** With PTE_PRESENT clear: a swap entry (slot << PTE_SHIFT | PTE_SWAP). */
export const PTE_SWAP = 0x8;
export const PTE_SHIFT = 4;
/** pfn 0 is the shared zero page (ZERO_PAGE(0)). */
export const ZERO_PFN = 0;

// errno values the syscalls return (negated).
export const ENOMEM = 12;
export const EFAULT = 14;
export const EINVAL = 22;

// Signals a fault can end in.
export const SIGSEGV = 11;
export const SIGBUS = 7;
export const SIGKILL = 9;
