import { createContext, useCallback, useContext, useEffect, useState }
    from 'react';
import { api } from './api.js';

/*
 * Who is logged in: GET /api/me once at start, then whatever login,
 * signup and logout answer.  user is undefined while asking, null when
 * nobody is logged in.
 */

const AuthContext = createContext(null);

export function AuthProvider({ children }) {
    const [user, setUser] = useState(undefined);

    const refresh = useCallback(async () => {
        try {
            const d = await api('GET', '/me');
            setUser(d.user || d);
        } catch {
            /* logged out, or the API away: nobody is logged in here */
            setUser(null);
        }
    }, []);

    useEffect(() => { refresh(); }, [refresh]);

    /* a 401 anywhere: the session is over, whatever this page thought */
    useEffect(() => {
        const ended = () => setUser(u => (u ? null : u));
        window.addEventListener('race-session-ended', ended);
        return () => window.removeEventListener('race-session-ended', ended);
    }, []);

    const login = useCallback(async (email, password) => {
        const d = await api('POST', '/auth/login', { body: { email,
                                                             password } });
        setUser(d.user);
        return d.user;
    }, []);

    const signup = useCallback(async (name, email, password) => {
        const d = await api('POST', '/auth/signup',
                            { body: { name, email, password } });
        setUser(d.user);
        return d.user;
    }, []);

    const logout = useCallback(async () => {
        try {
            await api('POST', '/auth/logout');
        } finally {
            setUser(null);
        }
    }, []);

    return (
        <AuthContext.Provider value={{ user, login, signup, logout,
                                       refresh }}>
            {children}
        </AuthContext.Provider>
    );
}

export function useAuth() {
    return useContext(AuthContext);
}

export function canOrganize(user) {
    return !!user && (user.role === 'organizer' || user.role === 'admin');
}
