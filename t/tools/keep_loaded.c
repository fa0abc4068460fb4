
/*
 * keep_loaded.so: preloaded into sanitized test runs, it makes dlclose()
 * keep every library loaded.  nginx unloads its dynamic modules when a
 * worker exits, before LeakSanitizer reports; with the module still
 * mapped, a leak report names the functions that leaked.
 */


int dlclose(void *handle);


int
dlclose(void *handle)
{
    (void) handle;

    return 0;
}
