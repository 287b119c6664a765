/* Stand-in for the -include'd kconfig.h of a real tree. */
#include <generated/autoconf.h>
