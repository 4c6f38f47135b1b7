/* The commands that work on several kernels' results: 'finwave merge'
 * (merge.c) joins report directories, 'finwave lab' (lab.c) boots kernels
 * under qemu and runs the selection in each. Each takes main()'s argv and
 * returns finwave's exit code. */
#ifndef FW_LAB_H
#define FW_LAB_H

int cmd_merge(int argc, char **argv);
int cmd_lab(int argc, char **argv);

#endif
