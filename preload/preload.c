/* preload.c - placeholder until the interposer lands. */
