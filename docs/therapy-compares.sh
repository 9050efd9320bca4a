#!/usr/bin/env bash
# Each therapy scenario against its control (the scenario it includes, or
# the one its header names), as reported in docs/calibration.md and the
# issue-5 closing note: 120 x 120 sites, 3 paired seeds, chosen days and
# columns. About 10 minutes on 2 cores.
#   usage: docs/therapy-compares.sh BUILD/bonesim [OUTDIR]
set -euo pipefail
B=${1:?usage: docs/therapy-compares.sh BUILD/bonesim [OUTDIR]}
OUT=${2:-out/therapy-compares}
export OMP_WAIT_POLICY=passive
mkdir -p "$OUT"
S=(--set lattice.width_sites=120 --set lattice.height_sites=120 --replicates 3 --quiet --force)
run() {
  echo "### bonesim compare $1 $2 --days $3 --at $4 --columns $5 ${S[*]}"
  "$B" compare "$1" "$2" --days "$3" --at "$4" --columns "$5" "${S[@]}" --out "$OUT/$2"
  echo
}
run vicious_cycle zoledronic_acid 240 60,120,240 n_osteoclasts,resorbed_um2_per_day,bone_area_um2,n_dtc
run homeostasis denosumab_rebound 480 200,240,330,360,390,480 n_osteoclasts,resorbed_um2_per_day,bone_area_um2
run mdsc_suppression anti_pd1 90 10,20,30,60 n_dtc,n_dtc_proliferating,kills_tcell_per_day,n_tcells_active
run anti_pd1 anti_pd1_zoledronic 90 10,30,60,90 n_osteoclasts,bone_area_um2,n_dtc
run mdsc_suppression anti_gr1 120 20,40,80,120 n_mdsc,n_osteoclasts,bone_area_um2,n_dtc
run anti_gr1 anti_gr1_zoledronic 120 20,40,80,120 n_osteoclasts,bone_area_um2,n_dtc
run dormancy cxcr4_antagonist 60 10,20,40,60 n_dtc,n_dtc_dormant,n_dtc_proliferating
run immune_surveillance radiotherapy 60 12,13,20,40,60 n_dtc,n_dtc_proliferating,n_dtc_dormant,n_tcells,n_nk,n_osteoblasts
run hypoxic_marrow reoxygenation 40 5,10,20,40 o2_median_mmHg,n_dtc,kills_nk_per_day
run hypoxic_marrow mno2 40 5,10,20,40 o2_median_mmHg,n_dtc,kills_nk_per_day
run dormancy hdac_inhibitor 60 10,20,40,60 n_dtc,n_dtc_dormant,n_dtc_proliferating
