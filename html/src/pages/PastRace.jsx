/* PastRace: a stub; the past-race page replaces this file */
export default function PastRace({ race }) {
    return <main className="page"><h1>{race.name}</h1></main>;
}
