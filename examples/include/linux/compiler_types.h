/* Stand-in for the -include'd compiler_types.h of a real tree. */
#define __read_mostly
