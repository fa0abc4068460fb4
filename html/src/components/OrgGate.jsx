import { Link } from 'react-router-dom';
import { canOrganize, useAuth } from '../lib/auth.jsx';

/*
 * The organizer pages' door: nothing while the session is asked for, a
 * login link that comes back here for a visitor, a plain "you need the
 * organizer role" for anyone else.  children are rendered for
 * organizers and admins only.
 */
export default function OrgGate({ title, next, children }) {
    const { user } = useAuth();

    if (user === undefined) {
        return <p className="page loading" role="status">Loading…</p>;
    }
    if (!user) {
        return (
            <main className="page">
                <h1>{title}</h1>
                <p>Organizing races needs an account with the organizer
                    role. <Link to={'/login?next='
                                    + encodeURIComponent(next)}>
                    Log in</Link> first.</p>
            </main>
        );
    }
    if (!canOrganize(user)) {
        return (
            <main className="page">
                <h1>{title}</h1>
                <p role="alert">You need the organizer role to organize
                    races. An administrator can give it to your account
                    ({user.email}).</p>
                <p><Link to="/">See all races</Link></p>
            </main>
        );
    }
    return children;
}
