/*
 * spawner.h - vigil-prober's two modes: a prober (vigil-prober NAME) and
 * the spawner (vigil-prober --spawner) that forks probers.
 */
#ifndef VIGIL_SPAWNER_H
#define VIGIL_SPAWNER_H

/* main.c: everything `vigil-prober NAME` does; returns the exit code. */
int	prober_run(const char *);

/* spawner.c */
void	spawner_title_init(int, char *[]);
int	spawner_main(void) __attribute__((noreturn));

#endif /* VIGIL_SPAWNER_H */
