"""One error type, with a stable code and a message in Bahasa Indonesia and English.

Every refusal the user can meet is listed in ``MESSAGES``; the CLI prints
``brankas: <message>`` in the user's language, the web shows the same text. The findings
of ``audit verify`` (``core.audit.hashchain``) are worded here too, with ``message``.
"""

from __future__ import annotations

import os
from typing import Any

# code: (Bahasa Indonesia, English). Placeholders are str.format fields.
MESSAGES: dict[str, tuple[str, str]] = {
    # input files
    "file_empty": ("berkas {name} kosong", "file {name} is empty"),
    "file_missing": ("berkas {name} tidak ditemukan", "file {name} not found"),
    "file_too_large": (
        "berkas {name} terlalu besar ({size} MiB; batas {limit} MiB)",
        "file {name} is too large ({size} MiB; the limit is {limit} MiB)",
    ),
    "file_type_unknown": (
        "berkas {name} bukan PDF, JPEG, PNG atau TIFF (isinya diperiksa, bukan namanya)",
        "file {name} is not a PDF, JPEG, PNG or TIFF (its content was checked, not its name)",
    ),
    "file_type_mismatch": (
        "isi berkas {name} adalah {actual}, tetapi namanya berakhiran .{ext}",
        "file {name} contains {actual} but its name ends in .{ext}",
    ),
    "pdf_truncated": (
        "PDF {name} terpotong atau tidak lengkap (tidak ada akhir berkas %%EOF)",
        "PDF {name} is truncated or incomplete (no %%EOF end marker)",
    ),
    "pdf_encrypted": (
        "PDF {name} dilindungi kata sandi atau terenkripsi; simpan ulang tanpa kata sandi",
        "PDF {name} is password-protected or encrypted; save it again without a password",
    ),
    "pdf_unreadable": (
        "PDF {name} rusak dan tidak dapat dibaca: {detail}",
        "PDF {name} is damaged and cannot be read: {detail}",
    ),
    "pdf_no_pages": ("PDF {name} tidak berisi halaman", "PDF {name} has no pages"),
    # hostile input (issue 6): active content and files that are two formats at once
    "pdf_active_content": (
        "PDF {name} berisi konten aktif ({what}); simpan ulang sebagai PDF biasa (cetak ke PDF)",
        "PDF {name} carries active content ({what}); save it again as a plain PDF (print to PDF)",
    ),
    "pdf_embedded_files": (
        "PDF {name} menyimpan berkas lain di dalamnya; daftarkan setiap berkas sendiri-sendiri",
        "PDF {name} carries other files inside it; register each file on its own",
    ),
    "file_polyglot": (
        "berkas {name} sekaligus berisi format lain ({detail}); berkas seperti ini ditolak",
        "file {name} is also another format at once ({detail}); such files are refused",
    ),
    "image_unreadable": (
        "gambar {name} rusak, terpotong atau tidak dapat dibaca: {detail}",
        "image {name} is damaged, truncated or unreadable: {detail}",
    ),
    "image_too_large": (
        "gambar {name} terlalu besar ({pixels} piksel; batas {limit}); kemungkinan bom dekompresi",
        "image {name} is too large ({pixels} pixels; limit {limit}); possibly a decompression bomb",
    ),
    "mixed_inputs": (
        "satu dokumen adalah satu PDF, atau satu atau beberapa gambar pindaian; jangan dicampur",
        "one document is one PDF, or one or more scanned images; do not mix them",
    ),
    "no_files": ("tidak ada berkas yang diberikan", "no file was given"),
    # the data-input form
    "field_required": ("kolom {field} wajib diisi", "the field {field} is required"),
    "field_too_long": (
        "kolom {field} terlalu panjang (maksimal {limit} karakter)",
        "the field {field} is too long (at most {limit} characters)",
    ),
    "field_invalid": (
        "kolom {field} tidak sah: {detail}", "the field {field} is invalid: {detail}"
    ),
    "date_invalid": (
        "tanggal {value} tidak sah; gunakan YYYY-MM-DD antara {low} dan {high}",
        "date {value} is invalid; use YYYY-MM-DD between {low} and {high}",
    ),
    "direction_invalid": (
        "arah {value} tidak dikenal; gunakan pengiriman atau penerimaan",
        "unknown direction {value}; use pengiriman or penerimaan",
    ),
    "classification_invalid": (
        "klasifikasi {value} tidak dikenal; gunakan biasa, terbatas, rahasia atau sangat-rahasia",
        "unknown classification {value}; use biasa, terbatas, rahasia or sangat-rahasia",
    ),
    "duplicate_document": (
        "berkas ini sudah terdaftar sebagai agenda {agenda}; gunakan --allow-duplicate untuk "
        "tetap mendaftarkannya",
        "this file is already registered as agenda {agenda}; use --allow-duplicate to register "
        "it anyway",
    ),
    # keys and encryption
    "no_key_holder": (
        "belum ada pemegang kunci aktif; dokumen dikecualikan tidak dapat dienkripsi. "
        "Buat kunci dulu: brankas key new --holder USERNAME",
        "there is no active key holder, so an exempted document cannot be encrypted. "
        "Create a key first: brankas key new --holder USERNAME",
    ),
    "not_key_holder_role": (
        "pengguna {username} ({role}) tidak boleh memegang kunci dekripsi; hanya Kasi, Kabid "
        "dan Kadis",
        "user {username} ({role}) may not hold a decryption key; only Kasi, Kabid and Kadis may",
    ),
    "passphrase_weak": (
        "frasa sandi terlalu lemah: minimal {min_length} karakter dan skor kekuatan zxcvbn "
        "minimal {min_score} dari 4 (skor ini {score}). {hint}",
        "the passphrase is too weak: it needs at least {min_length} characters and a zxcvbn "
        "strength score of at least {min_score} of 4 (this one scores {score}). {hint}",
    ),
    "passphrase_wrong": (
        "frasa sandi salah untuk kunci {username}",
        "wrong passphrase for the key of {username}",
    ),
    "passphrase_missing": (
        "frasa sandi diperlukan: --passphrase-file F atau BRANKAS_PASSPHRASE",
        "a passphrase is needed: --passphrase-file F or BRANKAS_PASSPHRASE",
    ),
    "no_key_for_document": (
        "kunci {username} tidak termasuk penerima dokumen {agenda}",
        "the key of {username} is not among the recipients of document {agenda}",
    ),
    "decrypt_failed": (
        "dokumen {agenda} tidak dapat didekripsi atau tidak utuh: {detail}",
        "document {agenda} cannot be decrypted or is not intact: {detail}",
    ),
    "stored_file_changed": (
        "berkas tersimpan untuk agenda {agenda} hilang atau berubah: {path}",
        "the stored file of agenda {agenda} is missing or has changed: {path}",
    ),
    # keys over time (issue 13): recovery shares, grant, revocation, passphrase, checks
    "shares_too_few": (
        "bagian kunci pemulihan kurang: perlu {threshold} bagian, yang diberikan {given}",
        "too few recovery shares: {threshold} are needed, {given} given",
    ),
    "share_invalid": (
        "bagian kunci pemulihan {name} tidak sah: {detail}",
        "recovery share {name} is not valid: {detail}",
    ),
    "share_word_unknown": (
        "bagian kunci pemulihan {name}: kata ke-{position} ({word}) tidak ada dalam daftar "
        "kata SLIP-39; periksa ejaannya pada kertas",
        "recovery share {name}: word {position} ({word}) is not in the SLIP-39 word list; "
        "check its spelling on the paper",
    ),
    "share_checksum": (
        "bagian kunci pemulihan {name} salah ketik: kode pemeriksanya (checksum) tidak "
        "cocok. Bandingkan setiap kata dengan kertasnya",
        "recovery share {name} is mistyped: its checksum does not match. Compare every word "
        "with the paper",
    ),
    "shares_mixed": (
        "bagian {name} dan {other} berasal dari dua pembagian kunci pemulihan yang berbeda; "
        "pakai bagian-bagian dari satu pembagian saja",
        "the shares {name} and {other} come from two different splits of the recovery key; "
        "use shares of one split only",
    ),
    "shares_duplicate": (
        "{name} dan {other} adalah bagian yang sama (bagian ke-{number}); berikan "
        "bagian-bagian yang berbeda",
        "{name} and {other} are the same share (share {number}); give different shares",
    ),
    "shares_wrong_office": (
        "bagian-bagian ini menyusun kunci bersidik jari {fingerprint}, bukan kunci pemulihan "
        "kantor ini ({expected}): bagian milik kantor lain, atau milik kunci pemulihan yang "
        "sudah diganti?",
        "these shares rebuild the key of fingerprint {fingerprint}, not this office's "
        "recovery key ({expected}): shares of another office, or of a replaced recovery key?",
    ),
    "key_revoked": (
        "kunci {fingerprint} milik {username} sudah dicabut; kunci itu tidak dipakai lagi "
        "untuk enkripsi apa pun",
        "the key {fingerprint} of {username} has been revoked; it takes part in no "
        "encryption any more",
    ),
    "key_not_holder": (
        "{username} tidak memegang kunci aktif",
        "{username} holds no active key",
    ),
    "key_not_own": (
        "Anda hanya boleh memakai kunci Anda sendiri, bukan kunci {username}",
        "you may act only on your own key, not on the key of {username}",
    ),
    "passphrase_same": (
        "frasa sandi baru sama dengan yang lama; pilih frasa sandi lain",
        "the new passphrase is the same as the old one; choose another",
    ),
    "key_check_mismatch": (
        "kunci {fingerprint} milik {username} terbuka, tetapi bukan kunci penerima yang "
        "tercatat ({recipient}): buat kunci baru dan minta akses lagi",
        "the key {fingerprint} of {username} unlocks, but it is not the recorded recipient "
        "({recipient}): make a new key and ask for access again",
    ),
    "grant_to_self": (
        "{username} tidak dapat memberi akses kepada dirinya sendiri; setelah membuat kunci "
        "baru, kunci-kunci lama {username} tetap membuka dokumen lamanya",
        "{username} cannot grant access to themselves; after making a new key, the earlier "
        "keys of {username} still open the earlier documents",
    ),
    "grant_no_key": (
        "{username} belum memegang kunci aktif; {username} membuat kuncinya dulu (brankas "
        "key new --holder {username}), baru kemudian akses diberikan",
        "{username} holds no active key yet; {username} makes a key first (brankas key new "
        "--holder {username}), then access can be granted",
    ),
    "grant_nothing": (
        "tidak ada berkas yang dapat dibuka {granter} dan belum terbuka untuk {username}; "
        "tidak ada yang dienkripsi ulang",
        "there is no file that {granter} can open and {username} cannot; nothing was "
        "re-encrypted",
    ),
    "rewrap_failed": (
        "enkripsi ulang {name} gagal: {detail}. Berkas yang tersimpan tetap utuh dan "
        "terbuka seperti sebelumnya; jalankan lagi untuk melanjutkan",
        "re-encrypting {name} failed: {detail}. The stored file is intact and opens as "
        "before; run again to continue",
    ),
    "rewrap_running": (
        "arsip sedang dipakai oleh {what}; tunggu sampai selesai, lalu jalankan lagi",
        "the archive is in use by {what}; wait until it ends, then run again",
    ),
    "recovery_split_bad_numbers": (
        "kunci pemulihan tidak dapat dibagi menjadi {shares} bagian dengan ambang "
        "{threshold}: jumlah bagian 1 sampai 16, ambang minimal 2 dan paling banyak jumlah "
        "bagian (ambang 1 hanya untuk satu bagian)",
        "the recovery key cannot be split into {shares} shares with a threshold of "
        "{threshold}: the number of shares is 1 to 16, the threshold at least 2 and at most "
        "the number of shares (a threshold of 1 only for a single share)",
    ),
    # users and access
    "auth_required": (
        "masuk dulu: --user USERNAME --password-file F, atau BRANKAS_USER dan BRANKAS_PASSWORD",
        "sign in first: --user USERNAME --password-file F, or BRANKAS_USER and BRANKAS_PASSWORD",
    ),
    "auth_failed": ("nama pengguna atau kata sandi salah", "wrong username or password"),
    "auth_locked": (
        "akun dikunci sementara karena terlalu banyak percobaan gagal",
        "the account is locked for a while after too many failed attempts",
    ),
    "permission_denied": (
        "peran {role} tidak boleh {action}",
        "the role {role} may not {action}",
    ),
    # second factor (issue 6): a TOTP code for key holders who enrolled one
    "totp_required": (
        "kode dari aplikasi autentikator diperlukan (baris perintah: BRANKAS_TOTP)",
        "a code from the authenticator app is needed (command line: BRANKAS_TOTP)",
    ),
    "totp_wrong": (
        "kode autentikator salah atau sudah kedaluwarsa",
        "the authenticator code is wrong or has expired",
    ),
    "user_exists": ("pengguna {username} sudah ada", "user {username} already exists"),
    "user_not_found": ("pengguna {username} tidak ditemukan", "user {username} not found"),
    "role_invalid": (
        "peran {value} tidak dikenal; gunakan sandiman, kasi, kabid, kadis atau admin",
        "unknown role {value}; use sandiman, kasi, kabid, kadis or admin",
    ),
    "password_invalid": ("kata sandi tidak diterima: {detail}", "password refused: {detail}"),
    "document_not_found": ("agenda {agenda} tidak ditemukan", "agenda {agenda} not found"),
    # the instance
    "not_initialized": (
        "Brankas belum disiapkan di {home}; jalankan dulu: brankas init --office NAMA --admin "
        "USERNAME",
        "Brankas is not set up in {home}; run first: brankas init --office NAME --admin USERNAME",
    ),
    "pg_trgm_not_allowed": (
        "peran {role} tidak dapat membuat ekstensi pg_trgm di basis data {database} "
        "(indeks pencarian teks): {detail}. Minta administrator PostgreSQL menjalankan "
        "CREATE EXTENSION pg_trgm; di basis data itu, atau jadikan {role} pemiliknya "
        "(docs/server.md), lalu ulangi",
        "the role {role} may not create the extension pg_trgm in the database {database} "
        "(the search by text's indexes): {detail}. Ask the PostgreSQL administrator to run "
        "CREATE EXTENSION pg_trgm; in that database, or to make {role} its owner "
        "(docs/server.md), then run this again",
    ),
    "already_initialized": (
        "Brankas sudah disiapkan di {home}", "Brankas is already set up in {home}"
    ),
    "exempted_via_pdf": (
        "Dokumen ini Dikecualikan: hanya dapat dibuka dari halamannya, dengan frasa sandi "
        "kunci seorang pemegang kunci.",
        "This document is exempted: it opens only from its page, with the passphrase of a "
        "key holder's key.",
    ),
    "output_exists": (
        "berkas keluaran {path} sudah ada; pilih nama lain",
        "the output file {path} already exists; choose another name",
    ),
    "output_unwritable": (
        "berkas keluaran {path} tidak dapat ditulis ({reason}); tidak ada yang ditulis",
        "the output file {path} cannot be written ({reason}); nothing was written",
    ),
    "import_folder_invalid": (
        "folder {path} tidak berisi folder biasa/ atau dikecualikan/ dengan pengiriman/ dan "
        "penerimaan/",
        "folder {path} holds no biasa/ or dikecualikan/ folders with pengiriman/ and "
        "penerimaan/ inside",
    ),
    "disk_full": (
        "ruang disk tidak cukup di {path}; tidak ada yang disimpan",
        "not enough disk space at {path}; nothing was stored",
    ),
    "config_invalid": (
        "pengaturan {name} tidak sah: {detail}", "setting {name} is invalid: {detail}"
    ),
    # the backup disk
    "backup_dest_missing": (
        "folder {path} tidak ada; apakah disk cadangan sudah terpasang?",
        "folder {path} does not exist; is the backup disk connected?",
    ),
    "backup_dest_not_empty": (
        "folder {path} berisi berkas lain dan bukan disk cadangan Brankas; pilih folder kosong",
        "folder {path} holds other files and is not a Brankas backup disk; choose an empty folder",
    ),
    "backup_not_brankas": (
        "{path} bukan disk cadangan Brankas (tidak ada bagit.txt dan brankas-medium.json)",
        "{path} is not a Brankas backup disk (no bagit.txt and brankas-medium.json)",
    ),
    "backup_bag_invalid": (
        "disk cadangan {path} rusak: {detail}",
        "the backup disk at {path} is damaged: {detail}",
    ),
    "backup_dest_link": (
        "{path} adalah tautan (link atau junction), bukan folder disk cadangan itu sendiri; "
        "tidak ada yang ditulis atau dibaca. Ketik folder di disk itu sendiri (misalnya "
        "E:\\brankas)",
        "{path} is a link (a symbolic link or junction), not the backup disk's folder itself; "
        "nothing was written or read. Give the folder on the disk itself (e.g. E:\\brankas)",
    ),
    "backup_disk_unproven": (
        "disk di {path} mengaku sebagai {label}, tetapi tidak membawa satu pun back up yang "
        "disegel kantor di disk itu; tidak ada yang ditulis. Periksa dengan brankas verify",
        "the disk at {path} claims to be {label} but carries none of the runs the office "
        "sealed on that disk; nothing was written. Check it with brankas verify",
    ),
    "backup_disk_file_wrong": (
        "data/{name} tercatat di manifest disk cadangan tetapi berkasnya berbeda ({detail}); "
        "tidak ada yang ditulis. Periksa disk dengan brankas verify, lalu pakai disk lain",
        "data/{name} is in the backup disk's manifest but the file there differs ({detail}); "
        "nothing was written. Check the disk with brankas verify, then use another disk",
    ),
    "disk_path_invalid": (
        "disk cadangan {path} menyebut jalur yang tidak aman {name} ({detail}); jalur itu "
        "tidak dipakai",
        "the backup disk at {path} names an unsafe path {name} ({detail}); it is not used",
    ),
    "disk_link": (
        "{name} di disk cadangan {path} adalah tautan (link atau junction); Brankas tidak "
        "pernah mengikuti tautan di disk cadangan",
        "{name} on the backup disk at {path} is a link (a symbolic link or junction); "
        "Brankas never follows a link on a backup disk",
    ),
    "disk_not_regular": (
        "{name} di disk cadangan {path} bukan berkas atau folder biasa ({what}); tidak dipakai",
        "{name} on the backup disk at {path} is not a regular file or folder ({what}); "
        "it is not used",
    ),
    "disk_file_too_large": (
        "{name} di disk cadangan {path} lebih besar dari {limit} bita; tidak dibaca",
        "{name} on the backup disk at {path} is larger than {limit} bytes; it is not read",
    ),
    "backup_staging_foreign": (
        "{name} di disk cadangan {path} tidak dibuat oleh Brankas ({what}); tidak ada yang "
        "dihapus atau ditulis. Periksa disk ini, pindahkan {name} secara manual, lalu "
        "jalankan lagi",
        "{name} on the backup disk at {path} was not made by Brankas ({what}); nothing was "
        "deleted or written. Inspect this disk, move {name} away by hand, then run again",
    ),
    "backup_busy": (
        "disk cadangan {path} sedang dipakai oleh proses lain (back up atau verifikasi)",
        "the backup disk at {path} is in use by another process (a backup or a verification)",
    ),
    "backup_disk_full": (
        "disk cadangan {path} penuh; berkas yang sudah tersalin tetap utuh dan tercatat. "
        "Kosongkan ruang atau pakai disk lain, lalu jalankan back up lagi untuk melanjutkan",
        "the backup disk at {path} is full; the files already copied are intact and listed. "
        "Free some space or use another disk, then run the backup again to continue",
    ),
    "backup_disk_gone": (
        "disk cadangan {path} tidak dapat diakses lagi (dicabut atau rusak?): {detail}. "
        "Pasang kembali dan jalankan back up lagi",
        "the backup disk at {path} cannot be reached any more (removed or failing?): "
        "{detail}. Reconnect it and run the backup again",
    ),
    "backup_disk_error": (
        "tidak dapat menulis ke disk cadangan {path}: {detail}",
        "cannot write to the backup disk at {path}: {detail}",
    ),
    "backup_disk_replaced": (
        "disk di {path} bukan lagi disk yang dibuka saat back up dimulai (diganti di tengah "
        "jalan?); tidak ada yang dicatat di disk ini. Pasang kembali disk semula dan jalankan "
        "back up lagi",
        "the disk at {path} is no longer the disk this backup opened (replaced mid-run?); "
        "nothing was recorded on it. Reconnect the first disk and run the backup again",
    ),
    "backup_readback_mismatch": (
        "berkas {name} yang ditulis ke disk cadangan berbeda saat dibaca ulang; disk mungkin "
        "rusak. Berkas ini tidak dicatat; pakai disk lain",
        "file {name} read back from the backup disk differs from what was written; the disk "
        "may be failing. The file was not recorded; use another disk",
    ),
    "backup_path_conflict": (
        "data/{name} sudah ada di disk cadangan dengan isi yang berbeda; disk cadangan tidak "
        "pernah ditimpa: dokumen yang berubah perlu nama versi baru",
        "data/{name} is already on the backup disk with different content; the backup disk "
        "is never overwritten: a changed document needs a new version name",
    ),
    "backup_unexpected_file": (
        "data/{name} ada di disk cadangan tetapi tidak tercatat di manifest; periksa dengan "
        "brankas verify",
        "data/{name} is on the backup disk but not in its manifest; check it with brankas verify",
    ),
    "backup_name_invalid": (
        "nama data/{name} tidak dapat dipakai di disk cadangan (exFAT/NTFS): {detail}",
        "the name data/{name} cannot be used on the backup disk (exFAT/NTFS): {detail}",
    ),
    "backup_source_changed": (
        "berkas sumber {name} berubah atau rusak saat disalin: {detail}",
        "the source file {name} changed or is damaged: {detail}",
    ),
    "backup_source_unreadable": (
        "berkas sumber {name} tidak dapat dibaca: {detail}",
        "the source file {name} cannot be read: {detail}",
    ),
    "backup_file_missing": (
        "berkas data/{name} tidak ada di disk back up ini",
        "data/{name} is not on this backup disk",
    ),
    "backup_file_damaged": (
        "berkas data/{name} di disk back up rusak (SHA-256 tidak cocok dengan manifest); "
        "ambil dari disk back up lain",
        "data/{name} on the backup disk is damaged (its SHA-256 does not match the "
        "manifest); take it from another backup disk",
    ),
    "backup_file_refused": (
        "berkas data/{name} di disk back up tidak dipakai: {detail}",
        "data/{name} on the backup disk is not used: {detail}",
    ),
    "backup_run_not_found": (
        "back up nomor {number} tidak ditemukan",
        "backup run {number} not found",
    ),
    "restore_target_not_empty": (
        "folder tujuan {path} sudah berisi berkas; pilih folder kosong",
        "the target folder {path} is not empty; choose an empty folder",
    ),
    "restore_not_on_disk": (
        "dokumen {agenda} tidak ada di disk back up ini",
        "document {agenda} is not on this backup disk",
    ),
    "recover_no_snapshot": (
        "disk back up di {path} tidak memuat salinan basis data; jalankan brankas backup "
        "sampai selesai sekali",
        "the backup disk at {path} holds no database snapshot; complete a brankas backup once",
    ),
    "recover_cannot_unlock": (
        "tidak ada salinan basis data di disk yang dapat dibuka dengan {what}",
        "no database snapshot on the disk opens with {what}",
    ),
    "recover_secret_needed": (
        "frasa sandi pemegang kunci (--passphrase-file) atau identitas pemulihan "
        "(--identity) diperlukan",
        "a key holder's passphrase (--passphrase-file) or the recovery identity "
        "(--identity) is needed",
    ),
    "recover_no_anchor": (
        "tidak ada yang membuktikan bahwa disk ini disegel oleh kantor Anda: tidak ada jangkar "
        "di disk yang cocok dengan {what}. Berikan sidik jari kunci kantor yang tertulis di "
        "kertas penyiapan (--fingerprint), atau pakai frasa sandi pemegang kunci lain atau "
        "identitas pemulihan. Jangan percayai disk ini sebelum sidik jarinya cocok",
        "nothing proves this disk was sealed by your office: no anchor on the disk checks "
        "with the {what}. Give the office key fingerprint written on the paper of set-up "
        "(--fingerprint), or use another key holder's passphrase or the recovery identity. "
        "Do not trust this disk until its fingerprint matches",
    ),
    "recover_unsigned_refused": (
        "disk {path} memuat segel back up, jadi ditulis setelah back up disegel: "
        "--allow-unsigned hanya untuk disk yang lebih lama. Buktikan segelnya dengan "
        "--fingerprint",
        "the disk at {path} carries backup seals, so it was written after backups were "
        "sealed: --allow-unsigned is only for older disks. Prove its seals with --fingerprint",
    ),
    "recover_fingerprint_unknown": (
        "tidak ada back up di disk ini yang disegel dengan kunci kantor bersidik jari "
        "{fingerprint}; disk ini bukan milik kantor itu, atau sidik jari salah ketik",
        "no backup on this disk is sealed with the office key of fingerprint {fingerprint}; "
        "the disk is not that office's, or the fingerprint was mistyped",
    ),
    "recover_not_sealed": (
        "tidak ada back up di disk {path} yang disegel oleh kunci kantor; disk ini milik "
        "kantor lain, diubah, atau ditulis sebelum back up disegel",
        "no backup on the disk at {path} is sealed by the office key; the disk is another "
        "office's, was changed, or was written before backups were sealed",
    ),
    "recover_newest_unusable": (
        "salinan basis data terbaru di disk (back up {run}) tidak dapat dipakai: {detail}. "
        "Tidak ada yang dipulihkan. Untuk memulihkan dari salinan yang lebih lama, dan "
        "kehilangan {lost}, jalankan lagi dengan --allow-older",
        "the newest database snapshot on the disk (run {run}) cannot be used: {detail}. "
        "Nothing was recovered. To recover from an older snapshot instead, and lose {lost}, "
        "run again with --allow-older",
    ),
    "recover_snapshot_unopened": (
        "salinan basis data back up {run} tidak dapat dibuka dengan kunci yang diberikan "
        "(rusak, atau tidak dienkripsi untuk kunci itu)",
        "the database snapshot of run {run} does not open with the key given (damaged, or "
        "not encrypted to that key)",
    ),
    "recover_snapshot_invalid": (
        "salinan basis data di disk tidak sah: {detail}",
        "the database snapshot on the disk is not valid: {detail}",
    ),
    "recover_home_not_empty": (
        "folder {path} sudah berisi data; pulihkan ke folder baru yang kosong",
        "{path} already holds data; recover into a new, empty folder",
    ),
    # safes, combinations and the custody of disks
    "safe_not_found": ("brankas {name} tidak ditemukan", "safe {name} not found"),
    "safe_exists": ("brankas bernama {name} sudah ada", "a safe named {name} already exists"),
    "combination_invalid": (
        "nomor kombinasi tidak sah: {detail}", "the combination is invalid: {detail}"
    ),
    "combination_no_holder": (
        "belum ada pemegang kunci aktif dengan peran {roles}; kombinasi hanya disimpan "
        "terenkripsi untuk mereka: buat kuncinya dulu (brankas key new)",
        "no active key holder has the role {roles}; the combination is stored only "
        "encrypted to them: create their key first (brankas key new)",
    ),
    "combination_not_for_you": (
        "kombinasi brankas {name} tidak dienkripsi untuk kunci Anda; minta pemegang kunci "
        "lain membukanya sekali agar dienkripsi ulang untuk Anda",
        "the combination of safe {name} is not encrypted to your key; ask another holder "
        "to open it once so it is re-encrypted to you",
    ),
    "medium_not_found": (
        "disk {label} tidak ditemukan; lihat brankas media list",
        "disk {label} not found; see brankas media list",
    ),
    "medium_ambiguous": (
        "lebih dari satu disk berlabel {label}; sebutkan ID disk ({ids})",
        "more than one disk is labelled {label}; give the disk id ({ids})",
    ),
    "medium_already_in_safe": (
        "disk {label} sudah tersimpan di brankas {safe}; untuk memindahkannya, keluarkan "
        "dulu (brankas media checkout)",
        "disk {label} is already in safe {safe}; to move it, check it out first "
        "(brankas media checkout)",
    ),
    "medium_retired": (
        "disk {label} sudah dipensiunkan dan tidak dapat dipakai lagi",
        "disk {label} is retired and cannot be used again",
    ),
    "medium_lost": (
        "disk {label} tercatat hilang; jika ditemukan, catat dulu: brankas media found",
        "disk {label} is recorded as lost; if it has turned up, record it first: "
        "brankas media found",
    ),
    "custody_move_invalid": (
        "disk {label} sedang {state}; tidak dapat {move}",
        "disk {label} is {state}; it cannot be {move}",
    ),
    "custody_reason_required": (
        "alasan (--reason) wajib diisi untuk perpindahan disk ini",
        "a reason (--reason) is required for this move of the disk",
    ),
    "backup_medium_in_safe": (
        "disk {label} tercatat tersimpan di brankas {safe}; catat pengeluarannya dulu: "
        "brankas media checkout {label} --reason \"back up\"",
        "disk {label} is recorded as locked in safe {safe}; check it out first: "
        "brankas media checkout {label} --reason \"backup\"",
    ),
    "backup_medium_offsite": (
        "disk {label} tercatat disimpan di luar kantor; catat pengeluarannya dulu: "
        "brankas media checkout {label} --reason \"back up\"",
        "disk {label} is recorded as kept offsite; check it out first: "
        "brankas media checkout {label} --reason \"backup\"",
    ),
    "backup_medium_retired": (
        "disk {label} sudah dipensiunkan; gunakan disk lain",
        "disk {label} is retired; use another disk",
    ),
    "backup_medium_lost": (
        "disk {label} tercatat hilang; jangan dipakai sebelum dicatat ditemukan "
        "(brankas media found) dan diperiksa (brankas verify)",
        "disk {label} is recorded as lost; do not use it before it is recorded as found "
        "(brankas media found) and verified (brankas verify)",
    ),
    # requests to send a message (permintaan pengiriman berita)
    "request_not_found": (
        "permintaan nomor {number} tidak ditemukan", "request number {number} not found"
    ),
    "urgency_invalid": (
        "derajat kecepatan {value} tidak dikenal; gunakan biasa, segera, sangat-segera atau kilat",
        "unknown urgency {value}; use biasa, segera, sangat-segera or kilat",
    ),
    "request_wrong_state": (
        "permintaan nomor {number} berstatus {state}: tidak dapat {step}",
        "request number {number} is {state}: cannot {step}",
    ),
    "request_not_yours": (
        "permintaan nomor {number} menunggu {holder}, bukan Anda",
        "request number {number} waits for {holder}, not for you",
    ),
    "request_assignee_invalid": (
        "{username} bukan {role} yang aktif; permintaan ini hanya dapat ditugaskan ke {role}",
        "{username} is not an active {role}; this request can only be assigned to a {role}",
    ),
    "request_note_required": (
        "alasan pengembalian wajib diisi (--note)", "a reason for returning it is required (--note)"
    ),
    "request_attachment_exists": (
        "surat permintaan nomor {number} sudah dilampirkan",
        "the letter of request number {number} is already attached",
    ),
    "request_no_letter": (
        "permintaan nomor {number} belum memiliki surat: lampirkan pindaiannya",
        "request number {number} has no letter yet: attach its scan",
    ),
    "request_not_registered": (
        "surat permintaan nomor {number} belum didaftarkan sebagai naskah keluar: jalankan "
        "dulu brankas request register {number}",
        "the letter of request number {number} is not registered as an outgoing document yet: "
        "run brankas request register {number} first",
    ),
    "request_attachment_changed": (
        "berkas surat permintaan nomor {number} hilang atau berubah: {path}",
        "the letter file of request number {number} is missing or has changed: {path}",
    ),
    # reports and their sign-off chain
    "period_invalid": (
        "periode {value} tidak sah; gunakan YYYY-MM, YYYY-Qn atau YYYY",
        "period {value} is invalid; use YYYY-MM, YYYY-Qn or YYYY",
    ),
    "report_not_found": ("laporan {number} tidak ditemukan", "report {number} not found"),
    "report_kind_invalid": (
        "jenis laporan {value} tidak dikenal; gunakan backup atau messages",
        "unknown report kind {value}; use backup or messages",
    ),
    "report_frozen": (
        "laporan {number} sudah disahkan dan tidak dapat diubah; buat versi koreksi "
        "(brankas report create ... --corrects {number})",
        "report {number} is approved and frozen; make a corrected version "
        "(brankas report create ... --corrects {number})",
    ),
    "report_step_invalid": (
        "laporan {number} sedang {state}; tidak dapat {step}",
        "report {number} is {state}; it cannot be {step}",
    ),
    "report_signer_twice": (
        "laporan {number} sudah {step} oleh {username}: langkah berikutnya ditandatangani "
        "orang lain",
        "report {number} was already {step} by {username}: another person signs the next step",
    ),
    "report_note_required": (
        "catatan (--note) wajib diisi saat mengembalikan laporan",
        "a note (--note) is required to return a report",
    ),
    "report_summary_required": (
        "ringkasan eksekutif wajib diisi sebelum diteruskan ke Kabid",
        "the executive summary is required before forwarding to the Kabid",
    ),
    "report_correction_invalid": (
        "laporan {number} belum disahkan; koreksi hanya untuk laporan yang sudah disahkan",
        "report {number} is not approved; only an approved report is corrected",
    ),
    "signing_passphrase_wrong": (
        "frasa sandi kunci tanda tangan salah",
        "the signing key passphrase is wrong",
    ),
    "signing_passphrase_required": (
        "frasa sandi kunci tanda tangan diperlukan (--passphrase-file F)",
        "the signing key passphrase is needed (--passphrase-file F)",
    ),
    # the audit log's chain, its sequence counter and its anchors (what audit verify finds)
    "audit_entry_altered": (
        "entri #{seq} diubah: hash-nya tidak cocok dengan isinya",
        "entry #{seq} was altered: its hash does not match its content",
    ),
    "audit_entry_unlinked": (
        "entri #{seq} tidak menyambung ke entri sebelumnya",
        "entry #{seq} does not follow the entry before it",
    ),
    "audit_entry_out_of_order": (
        "entri #{seq} tidak berurutan (seharusnya #{expected})",
        "entry #{seq} is out of order (#{expected} was expected)",
    ),
    "audit_entry_missing": ("entri #{seq} hilang", "entry #{seq} is missing"),
    "audit_entries_missing": (
        "entri #{first}–#{last} hilang", "entries #{first}–#{last} are missing",
    ),
    "audit_tail_entry_missing": (
        "entri #{last} hilang: log sudah menghitung sampai #{last}",
        "entry #{last} is missing: the log counted to #{last}",
    ),
    "audit_tail_entries_missing": (
        "entri #{first}–#{last} hilang: log sudah menghitung sampai #{last}",
        "entries #{first}–#{last} are missing: the log counted to #{last}",
    ),
    "audit_anchor_truncated": (
        "entri setelah #{end} hilang; {source} mencatat #{seq}",
        "entries after #{end} are missing; {source} recorded #{seq}",
    ),
    "audit_anchor_entry_missing": (
        "entri #{seq} hilang; {source} mencatatnya",
        "entry #{seq} is missing; {source} recorded it",
    ),
    "audit_anchor_rewritten": (
        "entri #{seq} bukan entri yang dicatat {source}: log ditulis ulang sampai #{seq}",
        "entry #{seq} is not the one {source} recorded: the log was rewritten up to #{seq}",
    ),
    "audit_anchor_broken": (
        "log sampai #{seq} tidak lagi menghasilkan hash yang dicatat {source}: ada entri "
        "sampai #{seq} yang diubah",
        "the log up to #{seq} no longer leads to the hash {source} recorded: an entry up to "
        "#{seq} was altered",
    ),
    "audit_problems": (
        "log audit bermasalah ({count} temuan); yang pertama: {first}",
        "the audit log has problems ({count} found); the first: {first}",
    ),
    "audit_anchor_not_found": (
        "{path} tidak ditemukan (berikan folder disk back up atau berkas PDF laporan)",
        "{path} not found (give a backup disk's folder or a report's PDF file)",
    ),
    "audit_anchor_pdf_no_head": (
        "{name} tidak memuat kepala rantai audit (bukan laporan Brankas yang disahkan?)",
        "{name} carries no audit-chain head (not an approved Brankas report?)",
    ),
    "audit_anchor_disk_no_head": (
        "disk di {path} tidak mencatat kepala rantai audit pada daftar kontrol mana pun",
        "the disk at {path} records no audit-chain head in any control list",
    ),
    # issue 14 C: every SOP step on the web (paths typed on a page, recover at first run)
    "path_inside_home": (
        "{path} berada di dalam folder data Brankas ({home}); pilih folder di luar folder "
        "itu",
        "{path} is inside the Brankas data folder ({home}); choose a folder outside it",
    ),
    "path_unusable": (
        "{path} tidak dapat dipakai sebagai folder di komputer ini (nama terlalu panjang, "
        "atau tidak dapat dibaca)",
        "{path} cannot be used as a folder on this computer (a name too long, or not "
        "readable)",
    ),
    "restore_target_on_disk": (
        "folder tujuan {path} berada di disk back up {dest}; pulihkan ke folder di luar disk",
        "the target folder {path} is on the backup disk {dest}; restore into a folder outside "
        "the disk",
    ),
    "path_not_folder": (
        "{path} bukan folder yang ada di komputer ini",
        "{path} is not an existing folder on this computer",
    ),
    "recover_instance_set_up": (
        "instans ini sudah disiapkan; pemulihan dari disk hanya untuk instans yang belum "
        "disiapkan",
        "this instance is already set up; recovering from a disk is only for an instance "
        "not set up yet",
    ),
    "recover_needs_sqlite": (
        "instans ini memakai basis data di luar folder data (BRANKAS_DATABASE_URL); "
        "pemulihan dari halaman ini hanya untuk basis data SQLite di folder data",
        "this instance uses a database outside its data folder (BRANKAS_DATABASE_URL); "
        "recovering from this page works only with the SQLite database in the data folder",
    ),
    "recover_switch_failed": (
        "instans dipulihkan di {path} tetapi tidak dapat dipasang sebagai folder data "
        "({reason})",
        "the instance was rebuilt in {path} but could not be put in place as the data "
        "folder ({reason})",
    ),
    "share_file_invalid": (
        "berkas bagian {name} bukan teks bagian pemulihan",
        "the share file {name} is not a recovery share's text",
    ),
    # issue 14 A: user administration, own password, lock-outs, qualifications
    "user_self": (
        "Anda tidak dapat {what} akun Anda sendiri",
        "you cannot {what} your own account",
    ),
    "user_last_admin": (
        "{username} adalah admin aktif terakhir: tambahkan atau aktifkan admin lain dulu",
        "{username} is the last active admin: add or reactivate another admin first",
    ),
    "user_already_inactive": ("pengguna {username} sudah nonaktif",
                              "user {username} is already inactive"),
    "user_already_active": ("pengguna {username} sudah aktif", "user {username} is already active"),
    "role_unchanged": ("{username} sudah berperan {role}",
                       "{username} already has the role {role}"),
    "password_change_required": (
        "kata sandi Anda diatur ulang oleh admin: ganti dulu (brankas user password, atau Akun "
        "saya di web)",
        "your password was reset by the admin: change it first (brankas user password, or My "
        "account on the web)",
    ),
    "password_same": (
        "kata sandi baru sama dengan kata sandi lama",
        "the new password is the same as the old one",
    ),
    "user_not_locked": ("pengguna {username} tidak sedang terkunci",
                        "user {username} is not locked out"),
    "qualification_not_found": (
        "kualifikasi #{number} milik {username} tidak ditemukan",
        "qualification #{number} of {username} not found",
    ),
    "qualification_withdrawn": (
        "kualifikasi #{number} sudah ditarik", "qualification #{number} is already withdrawn"
    ),
    "qualification_date_invalid": (
        "tanggal lulus {value} tidak sah; gunakan YYYY-MM-DD, tidak di masa depan",
        "date passed {value} is invalid; use YYYY-MM-DD, not in the future",
    ),
    # issue 14 D: usage errors of the command line (brankas.cli.usage), a report period
    # in the future, dates on the web forms
    "usage_missing": ("{option} wajib diberikan", "{option} is required"),
    "usage_choice": (
        "nilai {value} untuk {option} tidak dikenal; pilih salah satu: {choices}",
        "unknown value {value} for {option}; choose one of: {choices}",
    ),
    "search_query_invalid": (
        "--query: pencarian paling panjang {limit} karakter, teks saja (tanpa byte yang "
        "bukan UTF-8)",
        "--query: a search is at most {limit} characters of text (no byte that is not UTF-8)",
    ),
    "usage_value": ("nilai {option} tidak sah: {value}", "invalid value for {option}: {value}"),
    "usage_path": (
        "{option}: {value} tidak ditemukan atau bukan jenis yang diminta (berkas atau folder)",
        "{option}: {value} does not exist or is not the kind asked for (file or folder)",
    ),
    "usage_no_option": ("opsi {option} tidak dikenal", "no such option: {option}"),
    "usage_no_command": ("perintah {command} tidak dikenal", "no such command: {command}"),
    "usage_option": ("opsi {option} dipakai dengan salah", "option {option} is misused"),
    "usage_extra": ("argumen berlebih: {args}", "unexpected extra arguments: {args}"),
    "usage_other": ("penggunaan salah: {detail}", "wrong usage: {detail}"),
    "usage_help": ("Bantuan: {command} --help", "Help: {command} --help"),
    "command_unavailable": (
        "perintah {command} tidak dapat dimuat: modul {module} gagal diimpor ({detail}); "
        "pasang ulang Brankas beserta dependensinya",
        "the command {command} cannot be loaded: its module {module} failed to import "
        "({detail}); reinstall Brankas with its dependencies",
    ),
    "usage_aborted": ("dibatalkan", "aborted"),
    "usage_read_file": ("tidak dapat membaca {path}: {detail}", "cannot read {path}: {detail}"),
    "usage_together": ("{options} harus diberikan bersama", "{options} go together"),
    "usage_one_of": ("berikan salah satu: {options}", "give one of: {options}"),
    "usage_not_both": ("berikan {first} atau {second}, jangan keduanya",
                       "give {first} or {second}, not both"),
    "usage_rekey_shares": (
        "--rekey memerlukan --shares (admin tidak memegang kunci)",
        "--rekey needs --shares (the admin holds no key)",
    ),
    "usage_runs": ("--runs: nomor run dipisahkan koma, mis. 3,4,5",
                   "--runs: run numbers separated by commas, e.g. 3,4,5"),
    "report_period_future": (
        "periode {period} belum dimulai: laporan hanya untuk periode yang sudah "
        "dimulai (hari ini {today})",
        "the period {period} has not begun: a report covers a period that has begun (today "
        "is {today})",
    ),
    "report_refresh_not_draft": (
        "laporan {number} bukan konsep lagi; angkanya tidak dapat dikumpulkan ulang",
        "report {number} is no longer a draft; its figures cannot be gathered again",
    ),
    "backup_dest_parent_missing": (
        "folder {parent} tidak ada, jadi folder back up {path} tidak dapat dibuat; apakah "
        "disk back up sudah terpasang? (Brankas hanya membuat folder back up itu sendiri)",
        "the folder {parent} does not exist, so the backup folder {path} cannot be made; is "
        "the backup disk connected? (Brankas makes only the backup folder itself)",
    ),
    "form_date_invalid": (
        "tanggal {value} tidak sah; tulis dd/mm/yyyy antara {low} dan {high}",
        "date {value} is invalid; write dd/mm/yyyy between {low} and {high}",
    ),
    # issue 14 B
    "office_logo_invalid": (
        "logo harus berupa gambar PNG atau JPEG yang utuh",
        "the logo must be a whole PNG or JPEG image",
    ),
    "office_logo_too_large": (
        "logo terlalu besar (maksimal {limit} KiB dan 4096 x 4096 piksel)",
        "the logo is too large (at most {limit} KiB and 4096 x 4096 pixels)",
    ),
    "office_logo_both": (
        "pilih salah satu: logo baru atau tanpa logo",
        "choose one: a new logo or no logo",
    ),
    # issue 15 B: persistent jobs (brankas.web.jobs)
    "job_interrupted": (
        "pekerjaan terputus: proses yang menjalankannya berhenti sebelum selesai "
        "(server dimulai ulang atau mati). Mulai lagi",
        "the job was interrupted: the process running it stopped before it ended (the "
        "server was restarted or went down). Start it again",
    ),
    "job_interrupted_resumable": (
        "pekerjaan terputus: proses yang menjalankannya berhenti sebelum selesai "
        "(server dimulai ulang atau mati). Mulai lagi: yang sudah dikerjakan tetap tersimpan "
        "dan dilanjutkan",
        "the job was interrupted: the process running it stopped before it ended (the "
        "server was restarted or went down). Start it again: the work done so far is kept "
        "and continued",
    ),
    "job_secret_elsewhere": (
        "pekerjaan ini memerlukan frasa sandi, yang hanya disimpan di memori proses web yang "
        "menerima formulirnya, tidak pernah di basis data; worker ini tidak dapat "
        "menjalankannya. Isi formulirnya lagi",
        "this job needs a passphrase, which is kept only in the memory of the web process "
        "that received its form, never in the database; this worker cannot run it. Fill in "
        "its form again",
    ),
    "job_not_resumable": (
        "pekerjaan ini tidak dapat dilanjutkan dari sini: mulai lagi dari formulirnya",
        "this job cannot be resumed from here: start it again from its form",
    ),
    "job_user_inactive": (
        "akun {username} yang meminta pekerjaan ini sudah dinonaktifkan: pekerjaan ini tidak "
        "dijalankan",
        "the account {username} that asked for this job has been deactivated: the job was "
        "not run",
    ),
    "job_resume_other_disk": (
        "disk di {path} bukan disk {label} yang back-upnya terputus: pasang lagi disk itu di "
        "sana, atau mulai back-up baru dari formulirnya",
        "the disk at {path} is not disk {label}, whose backup was interrupted: put that disk "
        "back there, or start a new backup from the form",
    ),
    "job_disk_busy": (
        "back-up lain ke disk ini sedang antre atau berjalan (dimulai oleh {user}); tunggu "
        "sampai selesai",
        "another backup to this disk is queued or running (started by {user}); wait until "
        "it ends",
    ),
    # issue 15 A: moving an instance's database (brankas migrate-db)
    "migrate_db_bad_url": (
        "alamat basis data tujuan tidak dapat dipakai ({detail}); contoh: "
        "postgresql://brankas@127.0.0.1:5432/brankas atau sqlite:////jalur/brankas.sqlite3",
        "the target database URL cannot be used ({detail}); for example: "
        "postgresql://brankas@127.0.0.1:5432/brankas or sqlite:////path/brankas.sqlite3",
    ),
    "migrate_db_same": (
        "basis data tujuan adalah basis data instans ini sendiri",
        "the target database is this instance's own database",
    ),
    "migrate_db_unreachable": (
        "basis data tujuan tidak dapat dibuka atau disiapkan: {detail}",
        "the target database cannot be opened or prepared: {detail}",
    ),
    "migrate_db_not_empty": (
        "basis data tujuan tidak kosong ({table}: {rows} baris); pindahkan hanya ke basis "
        "data baru yang kosong",
        "the target database is not empty ({table}: {rows} rows); move only into a new, "
        "empty database",
    ),
    "migrate_db_mismatch": (
        "salinan tidak sama dengan aslinya pada tabel {table} ({detail}); tidak ada yang "
        "disimpan di basis data tujuan",
        "the copy differs from the original in table {table} ({detail}); nothing was kept "
        "in the target database",
    ),
    "migrate_db_source_behind": (
        "basis data instans ini belum diperbarui ke versi Brankas ini ({count} migrasi belum "
        "diterapkan); jalankan brankas serve sekali, hentikan, lalu pindahkan",
        "this instance's database is not up to date with this version of Brankas ({count} "
        "migrations not applied); run brankas serve once, stop it, then move",
    ),
    "migrate_db_source_busy": (
        "basis data instans ini berubah selagi dipindahkan (proses lain menulis ke sana); "
        "hentikan brankas serve dan worker, lalu coba lagi; tidak ada yang disimpan di "
        "basis data tujuan",
        "this instance's database changed while it was being moved (another process wrote "
        "to it); stop brankas serve and the workers, then try again; nothing was kept in "
        "the target database",
    ),
    "migrate_db_target_newer": (
        "basis data tujuan disiapkan oleh versi Brankas yang lebih baru ({migration}, "
        "{count} migrasi tidak dikenal versi ini); pakai basis data baru yang kosong",
        "the target database was prepared by a newer version of Brankas ({migration}, "
        "{count} migrations this version does not know); use a new, empty database",
    ),
    "recover_database_not_empty": (
        "basis data {url} sudah berisi data ({table}: {rows} baris); pulihkan ke basis data "
        "baru yang kosong",
        "the database {url} already holds data ({table}: {rows} rows); recover into a new, "
        "empty database",
    ),
    # s16 F: sealed register fields (issue 16)
    "sealed_no_key": (
        "{username} tidak memegang kunci aktif untuk membuka isian tersegel",
        "{username} holds no usable key to open sealed fields",
    ),
    # s16 A
    "recover_audit_unusable": (
        "log audit di disk {path} tidak dapat dipakai: {detail}. Tidak ada yang dipulihkan; "
        "pakai disk cadangan lain",
        "the audit log on the disk {path} cannot be used: {detail}. Nothing was recovered; "
        "use another backup disk",
    ),
    # s17 E: equipment and disk health (issue 17)
    "equipment_not_found": (
        "peralatan {ref} tidak ditemukan; lihat brankas equipment list",
        "equipment {ref} not found; see brankas equipment list",
    ),
    "equipment_kind_invalid": (
        "jenis peralatan {value} tidak dikenal; gunakan salah satu: {choices}",
        "unknown kind of equipment {value}; use one of: {choices}",
    ),
    "equipment_condition_invalid": (
        "kondisi {value} tidak dikenal; gunakan baik, rusak-ringan, rusak-berat atau tidak-aktif",
        "unknown condition {value}; use baik, rusak-ringan, rusak-berat or tidak-aktif",
    ),
    "equipment_date_invalid": (
        "tanggal {field} tidak sah: {value}; gunakan YYYY-MM-DD",
        "the date {field} is invalid: {value}; use YYYY-MM-DD",
    ),
    "equipment_linked": (
        "{what} sudah tercatat sebagai peralatan {ref}: tidak dicatat dua kali",
        "{what} is already recorded as equipment {ref}: it is not entered twice",
    ),
    "equipment_retired": (
        "peralatan {ref} sudah tidak aktif sejak {date}; tidak ada yang diubah",
        "equipment {ref} has been retired since {date}; nothing was changed",
    ),
    # s17 E review: the refusals an outside review found missing
    "equipment_date_future": (
        "tanggal {field} ({value}) belum terjadi: hari ini {today}",
        "the date {field} ({value}) has not happened yet: today is {today}",
    ),
    "equipment_link_both": (
        "satu peralatan adalah disk atau brankas, bukan keduanya: pilih --disk atau --safe",
        "one item is a disk or a safe, not both: choose --disk or --safe",
    ),
    "equipment_duplicate": (
        "{kind} dengan nomor seri {serial} sudah tercatat sebagai peralatan {ref}: tidak "
        "dicatat dua kali",
        "a {kind} with serial number {serial} is already recorded as equipment {ref}: it is "
        "not entered twice",
    ),
    # s17 lead: a command run on a database an older Brankas made, before serve migrated it
    "database_outdated": (
        "basis data di {home} dibuat oleh Brankas versi lama dan belum diperbarui ({detail}); "
        "jalankan sekali: brankas worker --burst (atau brankas serve), yang memperbaruinya, "
        "lalu ulangi perintah ini",
        "the database in {home} was made by an older Brankas and is not brought up to date "
        "yet ({detail}); run once: brankas worker --burst (or brankas serve), which updates "
        "it, then this command again",
    ),
    # s18 OA: the offsite copies' S3 layer (core/offsite/remote.py)
    "offsite_endpoint_invalid": (
        "alamat server S3 {endpoint} tidak sah: gunakan http(s)://host[:port] tanpa jalur",
        "the S3 server address {endpoint} is invalid: use http(s)://host[:port] without a path",
    ),
    "offsite_bucket_invalid": (
        "nama bucket {bucket} tidak sah (3-63 huruf kecil, angka, titik atau tanda hubung)",
        "the bucket name {bucket} is invalid (3-63 lower-case letters, digits, dots or hyphens)",
    ),
    "offsite_credentials_missing": (
        "kredensial S3 tidak ada: isi AWS_ACCESS_KEY_ID dan AWS_SECRET_ACCESS_KEY di "
        "lingkungan, atau sebutkan berkas kredensial (--credentials-file)",
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
        "environment, or name a credentials file (--credentials-file)",
    ),
    "offsite_credentials_file": (
        "berkas kredensial S3 {path} tidak dapat dipakai: {detail}",
        "the S3 credentials file {path} cannot be used: {detail}",
    ),
    "offsite_credentials_file_open": (
        "berkas kredensial S3 {path} dapat dibaca pengguna lain; batasi dulu: chmod 600 {path}",
        "the S3 credentials file {path} is readable by other users; restrict it first: "
        "chmod 600 {path}",
    ),
    "offsite_credentials_refused": (
        "server S3 {endpoint} menolak kredensial ({answer}): periksa ID kunci akses dan kunci "
        "rahasianya",
        "the S3 server {endpoint} refused the credentials ({answer}): check the access key and "
        "the secret key",
    ),
    "offsite_access_denied": (
        "server S3 menolak {action} pada {key}: kredensial ini tidak diizinkan melakukannya",
        "the S3 server refused to {action} {key}: these credentials are not allowed to",
    ),
    # issue 19: the text pipeline (web/text/services): an exempted document is never read
    "text_exempted": (
        "teks dokumen dikecualikan {agenda} tidak dibaca: isinya tidak pernah ditulis tanpa "
        "enkripsi (docs/ocr.md)",
        "the text of the exempted document {agenda} is not read: its content is never "
        "written unencrypted (docs/ocr.md)",
    ),
    # issue 19: the text of biasa documents (core/text)
    "ocr_unavailable": (
        "OCR belum terpasang (OCRmyPDF dan Tesseract dengan data bahasa Indonesia); pindaian "
        "tidak dapat dibaca teksnya sampai dipasang (docs/ocr.md)",
        "OCR is not installed (OCRmyPDF and Tesseract with the Indonesian language data); "
        "the text of scans cannot be read until it is (docs/ocr.md)",
    ),
    "ocr_failed": (
        "OCR dokumen gagal ({detail}); dokumennya sendiri tidak berubah, OCR dapat diulang",
        "OCR of the document failed ({detail}); the document itself is unchanged and OCR can "
        "be run again",
    ),
    "text_failed": (
        "teks dokumen tidak dapat dibaca dari PDF-nya ({detail}); dokumennya sendiri tidak berubah",
        "the document's text cannot be read from its PDF ({detail}); the document itself is "
        "unchanged",
    ),
    "offsite_unreachable": (
        "server S3 {endpoint} tidak dapat dihubungi atau sambungannya terputus ({detail}); "
        "periksa alamat dan jaringan, lalu coba lagi",
        "the S3 server {endpoint} cannot be reached or the connection was lost ({detail}); "
        "check the address and the network, then try again",
    ),
    "offsite_clock_skew": (
        "jam komputer ini berbeda terlalu jauh dari jam server S3; setel jam (dan zona "
        "waktunya) dengan benar",
        "this computer's clock is too far from the S3 server's; set the clock (and its time "
        "zone) right",
    ),
    "offsite_no_bucket": (
        "bucket {bucket} tidak ada di server S3 {endpoint}",
        "there is no bucket {bucket} on the S3 server {endpoint}",
    ),
    "offsite_no_versioning": (
        "bucket {bucket} tidak berversi: salinan di luar kantor memerlukan bucket yang dibuat "
        "dengan penguncian objek (yang juga mengaktifkan versi)",
        "the bucket {bucket} is not versioned: offsite copies need a bucket made with Object "
        "Lock (which also turns versioning on)",
    ),
    "offsite_no_object_lock": (
        "bucket {bucket} tidak memiliki penguncian objek: buat bucket baru dengan penguncian "
        "objek aktif (di banyak server tidak dapat diaktifkan belakangan)",
        "the bucket {bucket} has no Object Lock: make a new bucket with Object Lock enabled "
        "(many servers cannot turn it on later)",
    ),
    "offsite_checksum_refused": (
        "server S3 menolak {key}: SHA-256 yang dikirim tidak cocok dengan yang diterima "
        "(data berubah di jalan); coba lagi",
        "the S3 server refused {key}: the SHA-256 sent does not match what arrived (the data "
        "changed on the way); try again",
    ),
    "offsite_checksum_mismatch": (
        "SHA-256 {key} di server S3 tidak sama dengan salinan lokal ({how}): objek itu tidak "
        "dapat dipercaya",
        "the SHA-256 of {key} on the S3 server differs from the local copy ({how}): the "
        "object cannot be trusted",
    ),
    "offsite_source_changed": (
        "berkas {key} berubah selama pengunggahan (ukuran atau SHA-256 tidak lagi sama); "
        "ulangi pengiriman",
        "the file {key} changed during the upload (its size or SHA-256 is no longer the "
        "same); push again",
    ),
    "offsite_too_large": (
        "objek {key} terlalu besar ({size} bita; batas {limit} bita)",
        "the object {key} is too large ({size} bytes; the limit is {limit} bytes)",
    ),
    "offsite_truncated": (
        "objek {key} terpotong saat diunduh ({got} dari {size} bita)",
        "the object {key} was cut short while downloading ({got} of {size} bytes)",
    ),
    "offsite_key_invalid": (
        "nama objek {key} di server S3 ditolak (harus relatif, tanpa .. atau \\, paling "
        "banyak {limit} karakter dari huruf, angka dan ._-~+=,@/)",
        "the object name {key} on the S3 server is refused (it must be relative, without .. "
        "or \\, at most {limit} characters of letters, digits and ._-~+=,@/)",
    ),
    "offsite_listing_invalid": (
        "daftar objek dari server S3 ditolak: {detail}",
        "the object listing from the S3 server is refused: {detail}",
    ),
    "offsite_resume_invalid": (
        "catatan pengunggahan yang terputus untuk {key} tidak sah: {detail}",
        "the record of the interrupted upload of {key} is invalid: {detail}",
    ),
    "offsite_no_version": (
        "server S3 tidak memberi nomor versi untuk {key}: bucket {bucket} tidak berversi",
        "the S3 server gave no version id for {key}: the bucket {bucket} is not versioned",
    ),
    "offsite_server_error": (
        "server S3 {endpoint} gagal saat {action} (HTTP {status} {answer}) setelah {attempts} "
        "percobaan; coba lagi nanti",
        "the S3 server {endpoint} failed to {action} (HTTP {status} {answer}) after {attempts} "
        "attempts; try again later",
    ),
    "offsite_refused": (
        "server S3 menolak {action} {key} (HTTP {status} {answer}): {detail}",
        "the S3 server refused to {action} {key} (HTTP {status} {answer}): {detail}",
    ),
    "offsite_canary_enforced": (
        "penguncian objek ditegakkan: versi kanari {key} terkunci (COMPLIANCE) dan "
        "penghapusannya ditolak",
        "Object Lock is enforced: the canary version {key} is locked (COMPLIANCE) and its "
        "deletion was refused",
    ),
    "offsite_canary_deleted": (
        "TIDAK KEBAL: server S3 menghapus versi kanari {key} yang seharusnya terkunci; "
        "salinan di sana dapat dihapus oleh siapa pun yang memegang kredensialnya",
        "NOT IMMUTABLE: the S3 server deleted the canary version {key} that should have been "
        "locked; the copies there can be deleted by anyone holding its credentials",
    ),
    "offsite_canary_no_retention": (
        "TIDAK KEBAL: server S3 tidak melaporkan kunci COMPLIANCE pada versi kanari {key} "
        "({detail})",
        "NOT IMMUTABLE: the S3 server reports no COMPLIANCE lock on the canary version {key} "
        "({detail})",
    ),
    # s18 OB: offsite copies (issue 18)
    "offsite_remote_not_found": (
        "tidak ada penyimpanan di luar kantor bernama {name} (lihat daftarnya)",
        "there is no offsite remote named {name} (see: brankas offsite list)",
    ),
    "offsite_remote_exists": (
        "penyimpanan di luar kantor {name} sudah ada", "offsite remote {name} already exists",
    ),
    "offsite_field_invalid": (
        "{field} tidak valid: {detail}", "{field} is not valid: {detail}",
    ),
    "offsite_push_running": (
        "pengiriman ke penyimpanan di luar kantor {name} sedang berjalan; tunggu sampai selesai",
        "a push to the offsite remote {name} is running; wait until it ends",
    ),
    "offsite_not_sealed": (
        "salinan di luar kantor {name} tidak memuat segel kantor yang sah ({detail}): tidak ada "
        "yang dipulihkan",
        "the offsite copy {name} holds no valid office seal ({detail}): nothing restored",
    ),
    # s18 OD: recover --from-offsite (web/offsite/recover.py, core/offsite/recovery.py)
    "offsite_recover_cannot_unlock": (
        "tidak ada berkas kunci di salinan di luar kantor yang terbuka dengan {what}: "
        "periksa frasa sandi, atau pakai identitas pemulihan (--identity) atau bagian "
        "kunci pemulihan (--shares)",
        "no key file in the offsite copy opens with the {what}: check the passphrase, or "
        "use the recovery identity (--identity) or the recovery shares (--shares)",
    ),
    "offsite_recover_not_sealed": (
        "salinan di luar kantor {where} tidak memuat segel kantor Anda yang dapat dipercaya "
        "({detail}). Salinan kantor lain, segel palsu, atau kunci yang salah: tidak ada "
        "yang dipulihkan",
        "the offsite copy {where} holds no seal of your office that can be believed "
        "({detail}). Another office's copy, a forged seal, or the wrong key: nothing "
        "recovered",
    ),
    "offsite_recover_unusable": (
        "salinan di luar kantor {where} tidak dapat dipakai ({detail}): tidak ada yang "
        "dipulihkan",
        "the offsite copy {where} cannot be used ({detail}): nothing recovered",
    ),
    # s18 rev-offrec: recover --from-offsite under attack (core/offsite/recovery.py)
    "offsite_recover_unlock_bounded": (
        "frasa sandi tidak membuka {tried} berkas kunci yang dicoba, dan masih ada objek kecil "
        "lain yang tidak dicoba (paling banyak {files} berkas dan {seconds} detik): salinan "
        "di luar kantor mungkin memuat berkas yang ditanam penyerang. Pakai identitas "
        "pemulihan (--identity) atau bagian kunci pemulihan (--shares)",
        "the passphrase opens none of the {tried} key files tried, and other small objects "
        "were not tried (at most {files} files and {seconds} seconds): the offsite copy may "
        "hold files planted by an attacker. Use the recovery identity (--identity) or the "
        "recovery shares (--shares)",
    ),
}


def current_language() -> str:
    """The language of CLI messages: ``BRANKAS_LANG`` (id or en); Bahasa Indonesia by default."""
    lang = os.environ.get("BRANKAS_LANG", "id").strip().lower()[:2]
    return "en" if lang == "en" else "id"


def message(code: str, lang: str | None = None, **params: Any) -> str:
    """The text of ``code`` in ``lang`` (the user's language when not given). A parameter
    given as an (Indonesian, English) pair is shown in the same language."""
    index = 1 if (lang or current_language()) == "en" else 0
    template = MESSAGES[code][index]
    return template.format(**{
        k: (v[index] if isinstance(v, tuple) and len(v) == 2 else v) for k, v in params.items()
    })


class BrankasError(Exception):
    """A refusal with a stable ``code`` and a message in either language."""

    kind = "invalid"

    def __init__(self, code: str, **params: Any) -> None:
        if code not in MESSAGES:
            raise KeyError(f"unknown error code {code!r}")
        self.code = code
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str | None = None) -> str:
        return message(self.code, lang, **self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "kind": self.kind, "message": self.message()}


class InvalidInput(BrankasError):
    kind = "invalid"


class NotFound(BrankasError):
    kind = "not_found"


class Conflict(BrankasError):
    kind = "conflict"


class AccessDenied(BrankasError):
    kind = "denied"


class AuthenticationFailed(BrankasError):
    kind = "auth"


class CryptoFailure(BrankasError):
    kind = "crypto"


class IntegrityFailure(BrankasError):
    kind = "integrity"


class SetupError(BrankasError):
    kind = "setup"
