/* Compiled INSIDE the view by the test, then run; output compared with a native build+run. */
#include <stdio.h>
int main(int argc, char **argv) {
    (void)argv;
    printf("hello, view: argc=%d sizeof(long)=%zu\n", argc, sizeof(long));
    return 3;
}
