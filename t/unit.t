#!/usr/bin/perl

# Every C unit test program, each as a subtest: t/unit/NAME_test.c,
# built by t/Makefile.  core_* test a pure core (core/race_*.c),
# workers_* the workers' own code.  Each program prints TAP; every one
# of its assertions becomes one here, and the program must print its
# plan, meet it and exit 0 (a sanitizer report makes it exit non-zero).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;

# every t/unit/NAME_test.c; each program's first comment says what it
# tests
my @units = map { m{([^/]+)_test\.c$} } sort glob(Race::Test->root
                                                 . '/t/unit/*_test.c');

my $build = Race::Test->build;

# where core_password_test finds conf/common-passwords.txt
local $ENV{RACE_ROOT} = Race::Test->root;

for my $unit (@units) {
    my $bin = "$build/t/${unit}_test";
    -x $bin or die "$bin is missing: run ./build.sh test\n";

    subtest $unit => sub {
        my ($plan, $n, $failed) = (undef, 0, 0);

        # stdout is the TAP; stderr, a sanitizer's report, goes through
        open(my $fh, '-|', $bin) or die "exec $bin: $!\n";

        while (my $line = <$fh>) {
            chomp $line;

            if ($line =~ /^(not )?ok \d+(?: - (.*))?$/) {
                my ($not, $name) = ($1, $2 // '');

                # Test::More takes a name of digits for a number
                $name = "\"$name\"" if $name =~ /^[\d\s]*$/;

                $n++;
                $failed = !ok(!defined $not, $name);

            } elsif ($line =~ /^1\.\.(\d+)$/) {
                $plan = $1;

            } elsif ($line =~ /^#\s?(.*)$/) {
                # what a program says after a failure is why
                $failed ? diag($1) : note($1);

            } else {
                note($line);
            }
        }

        close($fh);
        my $status = $?;

        ok(defined $plan && $plan == $n,
            "$unit: ran its plan of " . ($plan // '?') . " ($n ran)");
        ok($status == 0, "$unit: exited with 0 (status $status)");
    };
}

done_testing();
