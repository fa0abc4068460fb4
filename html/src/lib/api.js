/*
 * The JSON API (PROTOCOL.md, "REST API under /api/").  The session is
 * the HttpOnly cookie that login sets, so no token is kept in script;
 * a spectator link's or a rider's token goes in the Authorization
 * header when a page has one.  Every failure becomes an ApiError with
 * the server's code and message, or "network" when nothing answered.
 */

export class ApiError extends Error {
    constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
    }
}

export async function api(method, path, { body, token, signal } = {}) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', signal };

    if (body !== undefined || method === 'POST' || method === 'PATCH') {
        /* the API takes JSON bodies only: a cross-site form cannot */
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body === undefined ? {} : body);
    }

    if (token) {
        headers.Authorization = 'Bearer ' + token;
    }

    let res;

    try {
        res = await fetch('/api' + path, init);
    } catch (e) {
        if (e.name === 'AbortError') {
            throw e;
        }
        throw new ApiError(0, 'network', 'The server cannot be reached.');
    }

    if (res.status === 204) {
        return null;
    }

    const text = await res.text();
    let data = null;

    try {
        data = text ? JSON.parse(text) : null;
    } catch {
        data = null;
    }

    if (!res.ok) {
        const err = data && data.error;
        if (res.status === 401 && !token) {
            /* the session ran out (tokens last 15 minutes): say so once,
             * for the header to show the login again */
            window.dispatchEvent(new Event('race-session-ended'));
        }
        throw new ApiError(res.status, err ? err.code : 'http_' + res.status,
                           err ? err.message : res.statusText
                                                 || 'Request failed.');
    }

    return data;
}

/* the one place that knows the URL scheme of WebSockets here */
export function wsUrl(path, token) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = token ? '?access_token=' + encodeURIComponent(token) : '';
    return proto + '//' + location.host + path + q;
}

/* the claims of a JWT, unchecked: only to show what a link is for */
export function tokenClaims(token) {
    try {
        const part = token.split('.')[1];
        const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
        const json = decodeURIComponent(Array.from(atob(b64),
            c => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'))
            .join(''));
        return JSON.parse(json);
    } catch {
        return null;
    }
}
