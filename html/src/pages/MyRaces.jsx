/* MyRaces: to be written */
export default function MyRaces() {
    return <main className="page"><h1>MyRaces</h1></main>;
}
