/* RacePage: to be written */
export default function RacePage() {
    return <main className="page"><h1>RacePage</h1></main>;
}
