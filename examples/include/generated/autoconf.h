/* The example tree is "configured": gfplint finds generated headers, as after make prepare. */
#define CONFIG_EXAMPLE 1
