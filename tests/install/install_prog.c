/* A program built against an installed libjoulebench (tests/install/install_prefix.sh): only the
 * installed header, compiled and linked with what the installed joulebench.pc says, run with the
 * installed shared library.  Checks the version three ways and opens a simulated meter set.
 * Usage: install_prog VERSION (the version pkg-config --modversion gives). */
#include <joulebench.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: install_prog VERSION\n");
        return 2;
    }
    if (strcmp(jb_version(), JB_VERSION_STRING) != 0 || strcmp(jb_version(), argv[1]) != 0) {
        fprintf(stderr, "version: library %s, header %s, .pc %s\n", jb_version(), JB_VERSION_STRING,
                argv[1]);
        return 1;
    }
    struct jb_meter_set *set = jb_meter_set_new();
    if (!set) {
        fprintf(stderr, "jb_meter_set_new failed\n");
        return 1;
    }
    int rc = jb_meter_set_add(set, "sim:const=50");
    if (rc < 0 || jb_meter_set_count(set) != 1) {
        fprintf(stderr, "sim meter: %s: %s\n", jb_strerror(rc), jb_meter_set_errmsg(set));
        jb_meter_set_free(set);
        return 1;
    }
    const struct jb_meter_info *info = jb_meter_get_info(jb_meter_set_get(set, 0));
    int bad = jb_meter_set_add(set, "no-such-meter");
    printf("meter %s simulated %d; bad spec: %s\n", info->id, info->simulated ? 1 : 0,
           jb_strerror(bad));
    jb_meter_set_free(set);
    return bad < 0 ? 0 : 1;
}
