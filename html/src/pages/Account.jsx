import { useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { useAuth } from '../lib/auth.jsx';

/* where to go once logged in: ?next=/organize, only paths of this site
 * (not //host or /\host, which browsers read as another host) */
export function nextPath(search) {
    const next = new URLSearchParams(search).get('next');
    return next && /^\/(?![/\\])/.test(next) ? next : '/';
}

function Form({ title, fields, submit, label, footer }) {
    const [values, setValues] = useState({});
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);

    async function onSubmit(e) {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
            await submit(values);
        } catch (err) {
            setError(err.message || 'That did not work.');
            setBusy(false);
        }
    }

    return (
        <main className="page narrow">
            <h1>{title}</h1>
            <form onSubmit={onSubmit} className="stack">
                {fields.map(f => (
                    <label key={f.name}>
                        {f.label}
                        <input name={f.name} type={f.type || 'text'}
                               autoComplete={f.autoComplete}
                               required minLength={f.minLength}
                               maxLength={f.maxLength}
                               value={values[f.name] || ''}
                               onChange={e => setValues({
                                   ...values, [f.name]: e.target.value })} />
                        {f.hint && <small>{f.hint}</small>}
                    </label>
                ))}
                {error && <p className="error" role="alert">{error}</p>}
                <button type="submit" disabled={busy}>{label}</button>
            </form>
            {footer}
        </main>
    );
}

export function Login() {
    const { login } = useAuth();
    const navigate = useNavigate();
    const { search } = useLocation();

    return (
        <Form title="Log in" label="Log in"
              fields={[
                  { name: 'email', label: 'Email', type: 'email',
                    autoComplete: 'username' },
                  { name: 'password', label: 'Password', type: 'password',
                    autoComplete: 'current-password' },
              ]}
              submit={async v => {
                  await login(v.email, v.password);
                  navigate(nextPath(search), { replace: true });
              }}
              footer={<p>New here? <Link to={'/signup' + search}>
                  Sign up</Link>.</p>} />
    );
}

export function Signup() {
    const { signup } = useAuth();
    const navigate = useNavigate();
    const { search } = useLocation();

    return (
        <Form title="Sign up" label="Create account"
              fields={[
                  { name: 'name', label: 'Name', autoComplete: 'name',
                    maxLength: 100 },
                  { name: 'email', label: 'Email', type: 'email',
                    autoComplete: 'email' },
                  { name: 'password', label: 'Password', type: 'password',
                    autoComplete: 'new-password', minLength: 8,
                    maxLength: 128,
                    hint: '8 to 128 characters; a common password is '
                          + 'refused.' },
              ]}
              submit={async v => {
                  await signup(v.name, v.email, v.password);
                  navigate(nextPath(search), { replace: true });
              }}
              footer={<p>Have an account? <Link to={'/login' + search}>
                  Log in</Link>.</p>} />
    );
}
