package Race::Web;

# The web client's tests: the built client (build/test/html) served by
# the test's nginx next to /ride, /live and /api, and browser scripts
# (t/web/*.mjs, playwright-core driving Debian's chromium) whose TAP
# lines become this test's.
#
#   my $p = Race::Platform->start($t, accounts => 1,
#                                 Race::Web::platform($t));
#   my $r = Race::Web::browser($t, 'live.mjs', { base => ..., race => .. });

use strict;
use warnings;

use JSON::PP;
use Test::More;
use Race::Util ();

# what Race::Platform->start needs to serve the client as the shipped
# nginx.conf does
sub platform {
    my ($t) = @_;

    my $html = $t->build . '/html';
    die "no web client in $html: ./build.sh test builds it\n"
        unless -f "$html/index.html";

    # the pages run under the production example's Content-Security-
    # Policy, so that what it forbids fails here first
    my ($csp) = $t->read_file($t->root . '/conf/nginx.prod.conf')
        =~ /^\s*(add_header\s+Content-Security-Policy\s+"[^"]*"\s+always;)/m
        or die "no Content-Security-Policy in conf/nginx.prod.conf\n";

    return (
        http => <<"EOF",
    include /etc/nginx/mime.types;
    types {
        application/manifest+json webmanifest;
    }
    default_type application/octet-stream;
EOF
        locations => <<"EOF",
        location /assets/ {
            root $html;
            expires max;
            gzip on;
            gzip_types text/css application/javascript image/svg+xml;
        }

        location / {
            root $html;
            try_files \$uri /index.html;
            expires -1;
            $csp
            gzip on;
            gzip_types application/manifest+json image/svg+xml;
        }
EOF
        api => <<"EOF",
            client_max_body_size    4m;
            client_body_buffer_size 4m;
EOF
    );
}

# where the browser scripts leave their screenshots: kept after the test
sub shots {
    my ($t) = @_;
    my $dir = $t->build . '/screenshots';
    mkdir $dir;
    return $dir;
}

# runs node t/web/SCRIPT with ARGS (JSON in RACE_WEB_ARGS); each of its
# "ok"/"not ok" lines is a test here, "#" lines are notes; returns what
# the script wrote with result() (decoded), or {} when it wrote nothing
sub browser {
    my ($t, $script, $args, %opt) = @_;

    my $n = ++$t->{web_n};
    my $result = $t->dir . "/web.$n.json";
    my $secs = $opt{timeout} || 300;

    local $ENV{RACE_WEB_ARGS} = encode_json($args || {});
    local $ENV{RACE_WEB_RESULT} = $result;
    local $ENV{RACE_WEB_SHOTS} = shots($t);
    local $ENV{RACE_WEB_TIMEOUT_S} = $secs;
    local $ENV{RACE_ROOT} = $t->root;

    my $cmd = join ' ', map { quotemeta } 'timeout', '-k', '10',
        $secs + 30, 'node', $t->root . "/t/web/$script";
    my $out = `$cmd 2>&1`;
    my $rc = $? >> 8;
    $t->write_file("web.$n.out", $out);

    my $tests = 0;
    for my $line (split /\n/, $out) {
        if ($line =~ /^(not )?ok\b(?: \d+)?(?: - )?(.*)$/) {
            ok(!$1, "browser: $2");
            $tests++;
        } elsif ($line =~ /^#/) {
            note($line);
        }
    }

    ok($rc == 0 && $tests > 0, "browser script $script ran to its end")
        or diag("exit $rc\n" . $out);

    open my $fh, '<', $result or return {};
    local $/;
    my $r = decode_json(<$fh>);
    close $fh;
    return $r;
}

# an admin (race-accounts --create-admin) and an organizer it made:
# { email, password, name, id, token } each, for the API and the browser
sub organizer {
    my ($t, $p, $call) = @_;

    my $pw = 'admin pass phrase ' . int(rand(1e9));
    my $file = $t->write_file('admin.pw', "$pw\n");
    chmod 0600, $file;
    my $argv = $p->accounts_argv('--create-admin', 'boss@example.org',
        '--name', 'Boss', '--password-file', $file);
    my $out = `@$argv 2>&1`;
    die "race-accounts --create-admin: $out\n" if $?;

    my $admin = { email => 'boss@example.org', password => $pw,
        name => 'Boss' };
    $admin->{token} = Race::Util::api_login($call, $admin);

    my $org = Race::Util::api_signup($call, 'Olga');
    my ($st) = $call->(POST => "/api/admin/users/$org->{id}/role",
        token => $admin->{token}, json => { role => 'organizer' });
    die "the organizer role: $st\n" unless $st == 200;
    $org->{token} = Race::Util::api_login($call, $org);

    return ($admin, $org);
}

1;
