/* Join: to be written */
export default function Join() {
    return <main className="page"><h1>Join</h1></main>;
}
