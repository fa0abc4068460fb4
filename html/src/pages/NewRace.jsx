/* NewRace: to be written */
export default function NewRace() {
    return <main className="page"><h1>NewRace</h1></main>;
}
