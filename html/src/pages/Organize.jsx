/* Organize: to be written */
export default function Organize() {
    return <main className="page"><h1>Organize</h1></main>;
}
