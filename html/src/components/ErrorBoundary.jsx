import { Component } from 'react';

/*
 * What a page that throws leaves on the screen: a sentence and a way
 * out, not a blank app.  A chunk that is gone (the site was updated
 * while this tab stayed open) is the common case: a reload fetches the
 * new index.html and its chunks.
 */
export default class ErrorBoundary extends Component {
    constructor(props) {
        super(props);
        this.state = { error: null };
    }

    static getDerivedStateFromError(error) {
        return { error };
    }

    componentDidUpdate(prev) {
        /* another page: try again */
        if (prev.where !== this.props.where && this.state.error) {
            this.setState({ error: null });
        }
    }

    render() {
        const { error } = this.state;

        if (!error) {
            return this.props.children;
        }

        const chunk = /dynamically imported module|Importing a module script/i
            .test(String(error && error.message));

        return (
            <main className="page" role="alert">
                <h1>Something went wrong</h1>
                <p>{chunk ? 'The site was updated since this page was '
                            + 'opened.'
                          : 'This page failed: ' + String(error.message
                                                          || error)}</p>
                <button type="button" onClick={() => location.reload()}>
                    Reload
                </button>
            </main>
        );
    }
}
