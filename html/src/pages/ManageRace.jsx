/* ManageRace: to be written */
export default function ManageRace() {
    return <main className="page"><h1>ManageRace</h1></main>;
}
