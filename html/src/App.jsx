import { lazy, Suspense, useEffect } from 'react';
import { Link, Navigate, NavLink, Route, Routes, useLocation,
         useNavigate } from 'react-router-dom';
import { canOrganize, useAuth } from './lib/auth.jsx';
import RaceList from './pages/RaceList.jsx';
import { Login, Signup } from './pages/Account.jsx';
import ErrorBoundary from './components/ErrorBoundary.jsx';

/* every page but the list is its own chunk: a spectator's first screen
 * loads the list and the live page only */
const RacePage = lazy(() => import('./pages/RacePage.jsx'));
const MyRaces = lazy(() => import('./pages/MyRaces.jsx'));
const Organize = lazy(() => import('./pages/Organize.jsx'));
const NewRace = lazy(() => import('./pages/NewRace.jsx'));
const ManageRace = lazy(() => import('./pages/ManageRace.jsx'));
const Join = lazy(() => import('./pages/Join.jsx'));

function Header() {
    const { user, logout } = useAuth();
    const navigate = useNavigate();

    return (
        <header className="top">
            <Link to="/" className="brand" aria-label="ngx_race: all races">
                <img src="/icon.svg" alt="" width="28" height="28" />
                <span>ngx_race</span>
            </Link>
            <nav aria-label="Main">
                <NavLink to="/" end>Races</NavLink>
                {user && <NavLink to="/me/races">My races</NavLink>}
                {canOrganize(user) && <NavLink to="/organize">Organize</NavLink>}
                <NavLink to="/join">Ride</NavLink>
            </nav>
            <div className="who">
                {user === undefined ? null : user ? (
                    <>
                        <span className="user" title={user.email}>
                            {user.name}
                            <span className="role">{user.role}</span>
                        </span>
                        <button type="button" className="link"
                                onClick={async () => {
                                    await logout();
                                    navigate('/');
                                }}>
                            Log out
                        </button>
                    </>
                ) : (
                    <>
                        <NavLink to="/login">Log in</NavLink>
                        <NavLink to="/signup">Sign up</NavLink>
                    </>
                )}
            </div>
        </header>
    );
}

/* the first page of old links: /?race=r1 */
function Home() {
    const q = new URLSearchParams(useLocation().search);
    const race = q.get('race');
    if (race) {
        return <Navigate to={'/races/' + encodeURIComponent(race)} replace />;
    }
    return <RaceList />;
}

function NotFound() {
    return (
        <main className="page">
            <h1>Not found</h1>
            <p>There is no page here. <Link to="/">See all races</Link>.</p>
        </main>
    );
}

export default function App() {
    const { pathname } = useLocation();

    useEffect(() => { window.scrollTo(0, 0); }, [pathname]);

    return (
        <>
            <a href="#main" className="skip">Skip to content</a>
            <Header />
            <div id="main">
                <ErrorBoundary where={pathname}>
                <Suspense fallback={<p className="page loading"
                                       role="status">Loading…</p>}>
                    <Routes>
                        <Route path="/" element={<Home />} />
                        <Route path="/login" element={<Login />} />
                        <Route path="/signup" element={<Signup />} />
                        <Route path="/races/:id/*" element={<RacePage />} />
                        <Route path="/me/races" element={<MyRaces />} />
                        <Route path="/organize" element={<Organize />} />
                        <Route path="/organize/new" element={<NewRace />} />
                        <Route path="/organize/:id" element={<ManageRace />} />
                        <Route path="/join" element={<Join />} />
                        <Route path="*" element={<NotFound />} />
                    </Routes>
                </Suspense>
                </ErrorBoundary>
            </div>
        </>
    );
}
