
/*
 * ngx_race workers: signals.
 */


#include <string.h>

#include "race_log.h"
#include "race_signal.h"


volatile sig_atomic_t  race_signal_stop;
volatile sig_atomic_t  race_signal_stop_signo;
volatile sig_atomic_t  race_signal_hup;


static void race_signal_handler(int signo);


int
race_signal_init(void)
{
    struct sigaction  sa;

    memset(&sa, 0, sizeof(struct sigaction));
    sigemptyset(&sa.sa_mask);

    /* no SA_RESTART: a sleep ends early when a signal comes */
    sa.sa_handler = race_signal_handler;

    if (sigaction(SIGTERM, &sa, NULL) != 0
        || sigaction(SIGINT, &sa, NULL) != 0
        || sigaction(SIGHUP, &sa, NULL) != 0)
    {
        race_log(RACE_LOG_ERROR, "sigaction failed");
        return -1;
    }

    /* a peer that went away is an error return, not a death */
    sa.sa_handler = SIG_IGN;

    if (sigaction(SIGPIPE, &sa, NULL) != 0) {
        race_log(RACE_LOG_ERROR, "sigaction failed");
        return -1;
    }

    return 0;
}


static void
race_signal_handler(int signo)
{
    if (signo == SIGHUP) {
        race_signal_hup = 1;
        return;
    }

    race_signal_stop_signo = signo;
    race_signal_stop = 1;
}
