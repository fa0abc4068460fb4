#!/usr/bin/perl

# The web client's unit and component tests (html/src/**/*.test.js*),
# run by vitest in happy-dom; each of its TAP lines is a test here.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;

my $t = Race::Test->new;
my $html = $t->root . '/html';

-d "$html/node_modules" or BAIL_OUT('no html/node_modules: ./build.sh test '
    . 'installs them');

my $out = `cd \Q$html\E && timeout -k 10 300 npx --no-install vitest run --reporter=tap-flat 2>&1`;
my $rc = $? >> 8;
$t->write_file('vitest.out', $out);

my $n = 0;
for (split /\n/, $out) {
    if (/^(not )?ok \d+ - (.*?)(?: # time=\S+)?$/) {
        ok(!$1, $2);
        $n++;
    }
}
ok($n > 0 && $rc == 0, "vitest ran $n tests and passed") or diag($out);

$t->done;
