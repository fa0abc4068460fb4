/*
 * A private race is watched with a token of that race: a spectator link
 * (/races/<id>#access=<token>, made by its organizer) or a rider's.
 * The fragment never reaches a server or a log; the token is kept for
 * the tab (sessionStorage) and the fragment taken off the address bar.
 */

const KEY = 'race-access:';

export function raceAccess(race) {
    const m = /[#&]access=([^&]+)/.exec(location.hash);
    if (m) {
        let token;
        try {
            token = decodeURIComponent(m[1]);
        } catch {
            /* a damaged link: watched as without one */
            token = null;
        }
        try {
            if (token) {
                sessionStorage.setItem(KEY + race, token);
            }
        } catch {
            /* storage off: the token lasts as long as the page */
        }
        history.replaceState(history.state, '',
                             location.pathname + location.search);
        return token;
    }
    try {
        return sessionStorage.getItem(KEY + race);
    } catch {
        return null;
    }
}

/* the link an organizer shares */
export function shareLink(race, token) {
    return location.origin + '/races/' + encodeURIComponent(race)
           + '#access=' + encodeURIComponent(token);
}

/* a rider's join link: the rider page, with the rider token */
export function joinLink(token) {
    return location.origin + '/join#token=' + encodeURIComponent(token);
}
